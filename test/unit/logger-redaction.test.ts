/**
 * What the one logger scrubs from text and objects (common/logger.ts): secrets that travel in passing, in
 * URLs, form bodies, JSON echoed by an upstream, headers written as text and our own cookies. Each case is
 * a shape a log line could carry; the plain words beside the secret must survive.
 */
import { REDACTED, redact, scrubText } from '../../common/logger';

describe('scrubText', () => {
  it.each([
    ['GET /oauth/start?ticket=v1.abc.def&x=1', 'ticket=v1.abc.def', 'x=1'],
    ['POST /oauth2/token code=c0de&client_secret=s3cr3t', 's3cr3t', 'POST /oauth2/token'],
    ['upstream said {"client_secret":"s3cr3t","ok":"yes"}', 's3cr3t', '"ok":"yes"'],
    ['upstream said {"code" : "c0\\"de","state":"st4te"}', 'st4te', 'upstream said'],
    ['Authorization: Bearer eyJhbGciOi.payload.sig', 'eyJhbGciOi', 'Authorization: Bearer'],
    ['Set-Cookie: __Host-otto-assistant=v1.sess; Path=/; HttpOnly', 'v1.sess', 'Path=/; HttpOnly'],
    ['Cookie: otto-consent=v1.ticket', 'v1.ticket', 'Cookie:'],
    ['WEBHOOK_SECRET whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw refused', 'MfKQ9r8G', 'refused'],
  ])('%s', (text, secret, kept) => {
    const scrubbed = scrubText(text);
    expect(scrubbed).not.toContain(secret);
    expect(scrubbed).toContain(REDACTED);
    expect(scrubbed).toContain(kept);
  });
});

describe('redact', () => {
  it('replaces values under secret-looking keys, keeps look-alikes readable', () => {
    expect(
      redact({
        ticket: 'v1.t',
        invitationUrl: 'https://portal.otto.market/invite/x',
        clientSecret: 's',
        tokenTaskQueue: 'otto-connect-tokens',
        statusCode: 401,
      }),
    ).toEqual({
      ticket: REDACTED,
      invitationUrl: REDACTED,
      clientSecret: REDACTED,
      tokenTaskQueue: 'otto-connect-tokens',
      statusCode: 401,
    });
  });
});
