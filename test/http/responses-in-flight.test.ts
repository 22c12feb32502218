import http from 'node:http';
import type { ServerResponse } from 'node:http';
import { ResponsesInFlight } from '../../src/http/responses-in-flight';
import { listenOnLoopback, rawRequest } from './raw-http';

/** A server that tracks every response and holds each one until the test answers it. */
async function holdingServer(initialSlots: number) {
  const inFlight = new ResponsesInFlight(initialSlots);
  const held: ServerResponse[] = [];
  const arrivals: Array<() => void> = [];
  const listener = await listenOnLoopback((_req, res) => {
    inFlight.add(res);
    held.push(res);
    arrivals.shift()?.();
  });
  const arrived = (count: number) =>
    new Promise<void>((resolve) => {
      const check = () => (held.length >= count ? resolve() : arrivals.push(check));
      check();
    });
  const closed = (res: ServerResponse) =>
    new Promise<void>((resolve) =>
      res.destroyed || res.writableFinished ? setImmediate(resolve) : res.once('close', () => setImmediate(resolve)),
    );
  return { inFlight, held, arrived, closed, listener };
}

describe('ResponsesInFlight', () => {
  it('lists the responses under way, beyond its initial slots, and forgets each once it closed', async () => {
    const { inFlight, held, arrived, closed, listener } = await holdingServer(1);
    const agent = new http.Agent({ keepAlive: true });
    try {
      const answers = [1, 2, 3].map((n) => rawRequest(listener.baseUrl, `/${n}`, { agent }));
      await arrived(3);
      expect(new Set(inFlight.current())).toEqual(new Set(held));

      held[1].end('two');
      await closed(held[1]);
      expect(new Set(inFlight.current())).toEqual(new Set([held[0], held[2]]));

      held[0].end('one');
      held[2].end('three');
      expect((await Promise.all(answers)).map((answer) => answer.body)).toEqual(['one', 'two', 'three']);
      await Promise.all([closed(held[0]), closed(held[2])]);
      expect(inFlight.current()).toEqual([]);

      // Freed slots are taken again.
      const more = [4, 5].map((n) => rawRequest(listener.baseUrl, `/${n}`, { agent }));
      await arrived(5);
      expect(new Set(inFlight.current())).toEqual(new Set(held.slice(3)));
      for (const res of held.slice(3)) res.end('ok');
      await Promise.all(more);
      await Promise.all(held.slice(3).map(closed));
      expect(inFlight.current()).toEqual([]);
    } finally {
      agent.destroy();
      await listener.close();
    }
  });

  it('forgets a response whose client went away before the answer', async () => {
    const { inFlight, held, arrived, closed, listener } = await holdingServer(4);
    try {
      const request = http.get(`${listener.baseUrl}/gone`);
      request.on('error', () => undefined);
      await arrived(1);
      expect(inFlight.current()).toEqual([held[0]]);
      request.destroy();
      await closed(held[0]);
      expect(inFlight.current()).toEqual([]);
    } finally {
      await listener.close();
    }
  });
});
