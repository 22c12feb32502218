import type { Campaign } from '../store/campaign-store';

/** One ready-to-copy modification URL of a campaign. */
export interface PostingUrl {
  /** The identifier method, in LinkTrust's words. */
  label: string;
  url: string;
  /** False when the campaign's settings make this method unusable (the reason says why). */
  usable: boolean;
  reason: string | null;
}

/** What the seed's samples use when the tracking host is unknown. */
export const PLACEHOLDER_BASE = 'http://[TrackingURL.com]';

// A Host header is the browser's own, but it still lands in a page: only host[:port] characters pass.
const HOST = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/** `scheme://host[:port]` the admin reached the console on (honours TRUST_PROXY), or the seed's placeholder. */
export function postingBase(protocol: string, host: string | undefined): string {
  if (!host || !HOST.test(host) || (protocol !== 'http' && protocol !== 'https')) return PLACEHOLDER_BASE;
  return `${protocol}://${host}`;
}

// The modification part exactly as LinkTrust's samples write it.
const CHANGES = 'A=no&AP=0.00&MP=0.00&executeaffiliatepixel=Yes';

/**
 * The campaign's sample posting URLs, one per identifier method, shaped exactly like LinkTrust's
 * "Sample Transaction Modification URLs" with this server's address and the campaign's CID filled in.
 * `Password=value` stays a placeholder: the password is never shown after it is set.
 */
export function postingUrls(base: string, campaign: Pick<Campaign, 'id' | 'uniqueMerchantReference'>): PostingUrl[] {
  const endpoint = `${base}/transaction.edit`;
  return [
    {
      label: 'Transaction ID URL',
      url: `${endpoint}?Password=value&Transactionid=value&${CHANGES}`,
      usable: true,
      reason: null,
    },
    { label: 'Click ID URL', url: `${endpoint}?Password=value&ClickID=value&${CHANGES}`, usable: true, reason: null },
    {
      label: 'Merchant Reference ID and Campaign ID URL',
      url: `${endpoint}?Password=value&Merchantreferenceid=value&CID=${campaign.id}&${CHANGES}`,
      usable: campaign.uniqueMerchantReference,
      reason: campaign.uniqueMerchantReference
        ? null
        : 'Needs "Enforce a unique merchant reference ID" turned on for this campaign.',
    },
  ];
}
