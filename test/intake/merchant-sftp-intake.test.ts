import path from 'node:path';
import { testEngines } from '../support/databases';
import { adminRequest, useTestServer } from '../support/test-server';
import { appliedCodes, merchantIntakeScene, sftpClient, temporaryIntakeDir } from './intake-helpers';

const files = temporaryIntakeDir();
afterAll(() => files.remove());

describe.each(testEngines())("a merchant's SFTP upload user, with a client in another process, on %s", (engine) => {
  const context = useTestServer(engine, {
    INTAKE_DIR: path.join(files.dir, engine),
    INTAKE_HOST: '127.0.0.1',
    SFTP_PORT: '0',
  });
  const services = () => context.server.services;
  const api = (method: string, url: string, body?: unknown) => adminRequest(context.server.baseUrl, method, url, body);
  let port = 0;
  beforeAll(async () => {
    port = (await services().intakeServers.start()).sftp ?? 0;
  });

  it("takes a file as the merchant's batch: its own action applied, another merchant's not found; revoked, refused", async () => {
    // Upload off for the campaign: a merchant's user does not depend on a campaign's settings.
    const { merchantId, rivalId, file } = await merchantIntakeScene(services(), context.server.baseUrl, {
      upload: false,
    });
    const created = await api('POST', `/merchants/${merchantId}/intake/credentials`, {});
    expect(created.status).toBe(201);
    const { username, password } = created.body;
    const steps = await sftpClient({
      port,
      user: username,
      password,
      actions: [
        { op: 'put', name: '/Batch_Mods_Reversals.csv', content: file },
        { op: 'list', path: '/' },
      ],
    });
    expect(steps).toEqual([
      { op: 'login', ok: true },
      { op: 'put', ok: true, result: null },
      { op: 'list', ok: true, result: [] },
    ]);
    const [batch] = await services().batches.list({ limit: 1, merchantId });
    expect(batch).toMatchObject({
      filename: 'Batch_Mods_Reversals.csv',
      channel: 'sftp',
      campaignId: null,
      merchantId,
      submittedBy: username,
      kind: 'impact',
      records: 2,
    });
    expect(await appliedCodes(services(), context.server.baseUrl, batch.id)).toEqual([
      [1, 'OK', 'MODIFIED'],
      [2, 'Validation', 'ACTION_NOT_FOUND'],
    ]);
    expect(await services().batches.list({ limit: 1, merchantId: rivalId })).toEqual([]);

    expect((await api('DELETE', `/merchants/${merchantId}/intake/credentials/${username}`)).status).toBe(204);
    const refused = await sftpClient({ port, user: username, password, actions: [] });
    expect(refused).toEqual([
      {
        op: 'login',
        ok: false,
        code: 'client-authentication',
        message: 'All configured authentication methods failed',
      },
    ]);
  });
});
