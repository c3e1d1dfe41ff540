/** Slack incoming-webhook delivery: the Block Kit message, Slack's limits, rate limiting, and a URL that stays secret. */
import { afterEach, describe, expect, it } from 'vitest';
import { createSender, slackMessage } from '../../src/actions/index.js';
import { SLACK_LIMITS, type SlackBlock } from '../../src/actions/slack.js';
import { startDemoReceivers } from '../../src/app/demo-receivers.js';
import type { ActionDefinition } from '../../src/rules/types.js';
import { type Answer, type TestServer, closedPort, makeAlert, makeNotification, startTestServer } from './helpers.js';

type SlackDef = Extract<ActionDefinition, { kind: 'slack' }>;

function slackDef(minIntervalMs = 0): SlackDef {
  return { kind: 'slack', name: 'team-slack', location: 'rules/actions.yaml:1:3', urlEnv: 'SLACK_WEBHOOK_URL', minIntervalMs };
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(handle: () => Answer = () => ({ status: 200, body: 'ok' })): Promise<TestServer> {
  const s = await startTestServer(handle);
  servers.push(s);
  return s;
}

/** Every piece of mrkdwn/plain text in the blocks. */
function texts(blocks: ReadonlyArray<SlackBlock>): string[] {
  const out: string[] = [];
  const visit = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach(visit);
    else if (typeof x === 'object' && x !== null) {
      const o = x as Record<string, unknown>;
      if (typeof o['text'] === 'string') out.push(o['text']);
      Object.values(o).forEach(visit);
    }
  };
  visit(blocks);
  return out;
}

describe('slack message', () => {
  it('names the rule, the model and each drifted feature with its value and threshold', () => {
    const m = slackMessage(makeNotification());
    expect(m.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: ':rotating_light: [CRITICAL] key-feature-drift firing — press-qa', emoji: true },
    });
    expect(m.text).toBe('[CRITICAL] key-feature-drift firing — press-qa: pressure drifted');
    const all = texts(m.blocks).join('\n');
    expect(all).toContain('*What drifted* (2)');
    expect(all).toContain('• *pressure* (psi): 0.4123 vs threshold 0.2');
    expect(all).toContain('• *temperature* (psi): 0.3 vs threshold 0.2');
    expect(all).toContain('*Model*\npress-qa');
    expect(all).toContain('*Model version*\n2024.05.1');
    expect(all).toContain('*Segment*\nlot_id=L-1042');
    expect(all).toContain('*Window*\n2024-05-01 10:00–10:05 UTC (1,234 rows)');
    expect(all).toContain('*Since*\n2024-05-01 09:50 UTC');
    expect(all).toContain('*Severity*\ncritical');
    expect(all).toContain('PSI above 0.2 for 3 of the last 3 windows');
    expect(all).toContain('<http://driftwatch.local:8080/reports/press-qa/123|View the window report>');
  });

  it('says resolved with a check mark, and escapes mrkdwn in names', () => {
    const alert = makeAlert('a<b>&c', { status: 'resolved', endsAt: Date.UTC(2024, 4, 1, 11, 0, 0) });
    const m = slackMessage(makeNotification({ status: 'resolved', severity: 'warning', alerts: [alert] }));
    expect(m.blocks[0]).toMatchObject({ text: { text: ':white_check_mark: [WARNING] key-feature-drift resolved — press-qa' } });
    const all = texts(m.blocks).join('\n');
    expect(all).toContain('• *a&lt;b&gt;&amp;c* (psi)');
    expect(all).toContain('*Resolved*\n2024-05-01 11:00 UTC');
  });

  it('keeps 200 alerts with long names within Slack limits, cutting the list with "… and N more"', () => {
    const alerts = Array.from({ length: 200 }, (_, i) => makeAlert(`feature_${String(i).padStart(3, '0')}_${'x'.repeat(60)}`));
    const m = slackMessage(makeNotification({ alerts, rule: 'r'.repeat(300) }));
    expect(m.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    for (const block of m.blocks) {
      const b = block as { text?: { text: string }; fields?: Array<{ text: string }> };
      if (block.type === 'header') expect(b.text!.text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
      if (block.type === 'section' && b.text) expect(b.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
      if (b.fields) {
        expect(b.fields.length).toBeLessThanOrEqual(SLACK_LIMITS.fields);
        for (const f of b.fields) expect(f.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fieldText);
      }
    }
    const list = texts(m.blocks).find((t) => t.startsWith('*What drifted* (200)'))!;
    const shown = list.split('\n').filter((l) => l.startsWith('• ')).length;
    const more = /… and (\d+) more$/.exec(list);
    expect(shown).toBeGreaterThan(10);
    expect(more).not.toBeNull();
    expect(shown + Number(more![1])).toBe(200);
  });
});

describe('slack sender', () => {
  it('posts {text, blocks} as JSON to the URL from the environment', async () => {
    const s = await server();
    const result = await createSender(slackDef(), { SLACK_WEBHOOK_URL: `${s.url}/services/T0/B0/secret` }).deliver(makeNotification());
    expect(result).toEqual({ outcome: 'delivered', status: 200, detail: 'Slack answered HTTP 200' });
    const req = s.requests[0]!;
    expect(req.url).toBe('/services/T0/B0/secret');
    expect(req.headers['content-type']).toBe('application/json');
    const body = JSON.parse(req.body) as { text: string; blocks: unknown[] };
    expect(body).toEqual(JSON.parse(JSON.stringify(slackMessage(makeNotification()))));
  });

  it('fails without the URL variable, naming it', async () => {
    const result = await createSender(slackDef(), { OTHER: 'x' }).deliver(makeNotification());
    expect(result).toEqual({ outcome: 'failed', status: null, error: 'env SLACK_WEBHOOK_URL is not set' });
  });

  it('never shows the webhook URL (a secret) in errors', async () => {
    const secretPath = '/services/T0/B0/XyZsecretToken';
    const s = await server(() => ({ status: 404, body: `no_service for ${secretPath}` }));
    const r404 = await createSender(slackDef(), { SLACK_WEBHOOK_URL: s.url + secretPath }).deliver(makeNotification());
    expect(r404).toEqual({
      outcome: 'failed',
      status: 404,
      error: 'POST Slack webhook (env SLACK_WEBHOOK_URL): HTTP 404: no_service for [redacted]',
    });

    const port = await closedPort();
    const down = await createSender(slackDef(), { SLACK_WEBHOOK_URL: `http://127.0.0.1:${port}${secretPath}` }).deliver(makeNotification());
    expect(down.outcome).toBe('retry');
    expect(JSON.stringify(down)).not.toContain('XyZsecretToken');

    const bad = await createSender(slackDef(), { SLACK_WEBHOOK_URL: 'hooks.slack.com/XyZsecretToken' }).deliver(makeNotification());
    expect(bad).toEqual({ outcome: 'failed', status: null, error: 'POST Slack webhook (env SLACK_WEBHOOK_URL): not a valid URL' });
  });

  it("answers retry with Slack's Retry-After when the demo receiver rate-limits it", async () => {
    const receivers = await startDemoReceivers({ webhookSecret: 's', airflow: { username: 'u', password: 'p' } });
    try {
      const sender = createSender(slackDef(0), { SLACK_WEBHOOK_URL: receivers.slackUrl });
      expect((await sender.deliver(makeNotification())).outcome).toBe('delivered');
      const second = await sender.deliver(makeNotification({ id: 'second' }));
      expect(second).toMatchObject({ outcome: 'retry', status: 429, retryAfterMs: 1000 });
      expect(second.outcome === 'retry' && second.error).toBe('POST Slack webhook (env SLACK_WEBHOOK_URL): HTTP 429: rate_limited');
      expect(receivers.received.map((r) => r.kind)).toEqual(['slack']);
      expect(receivers.received[0]!.body).toMatchObject({ text: expect.stringContaining('key-feature-drift firing') });
    } finally {
      await receivers.close();
    }
  });

  it('keeps minIntervalMs between messages, and a Retry-After for the messages after it, without sending', async () => {
    const answers: Answer[] = [{ status: 200, body: 'ok' }, { status: 429, body: 'rate_limited', headers: { 'retry-after': '30' } }];
    const s = await server(() => answers.shift() ?? { status: 200, body: 'ok' });
    let clock = 1_000_000;
    const sender = createSender(slackDef(1000), { SLACK_WEBHOOK_URL: s.url }, { now: () => clock });

    expect((await sender.deliver(makeNotification())).outcome).toBe('delivered');
    clock += 400;
    expect(await sender.deliver(makeNotification())).toMatchObject({ outcome: 'retry', status: null, retryAfterMs: 600 });
    expect(s.requests).toHaveLength(1);

    clock += 600;
    expect(await sender.deliver(makeNotification())).toMatchObject({ outcome: 'retry', status: 429, retryAfterMs: 30_000 });
    clock += 10_000;
    expect(await sender.deliver(makeNotification())).toMatchObject({ outcome: 'retry', status: null, retryAfterMs: 20_000 });
    expect(s.requests).toHaveLength(2);
    clock += 20_000;
    expect((await sender.deliver(makeNotification())).outcome).toBe('delivered');
    expect(s.requests).toHaveLength(3);
  });
});
