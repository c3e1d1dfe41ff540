/** The Alertmanager webhook payload (version 4), as a receiver of Alertmanager's own webhooks expects it. */
import { afterEach, describe, expect, it } from 'vitest';
import { alertmanagerPayload, createSender } from '../../src/actions/index.js';
import type { ActionDefinition } from '../../src/rules/types.js';
import { type TestServer, makeAlert, makeNotification, startTestServer } from './helpers.js';

type AlertmanagerDef = Extract<ActionDefinition, { kind: 'alertmanager' }>;

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('alertmanager payload', () => {
  it('has the version 4 shape, with common labels and annotations of the group', () => {
    const n = makeNotification();
    const p = alertmanagerPayload(n, 'ml-oncall');
    expect(p).toMatchObject({
      version: '4',
      groupKey: 'key-feature-drift/press-qa/lot_id=L-1042',
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'ml-oncall',
      groupLabels: { alertname: 'key-feature-drift', model: 'press-qa' },
      commonLabels: { alertname: 'key-feature-drift', model: 'press-qa', severity: 'critical', method: 'psi', lot_id: 'L-1042' },
      commonAnnotations: { description: 'PSI above 0.2 for 3 of the last 3 windows' },
      externalURL: 'http://driftwatch.local:8080',
    });
    expect(p.alerts).toEqual([
      {
        status: 'firing',
        labels: n.alerts[0]!.labels,
        annotations: n.alerts[0]!.annotations,
        startsAt: '2024-05-01T09:50:00.000Z',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: n.reportUrl,
        fingerprint: 'fp-pressure',
      },
      expect.objectContaining({ fingerprint: 'fp-temperature', endsAt: '0001-01-01T00:00:00Z' }),
    ]);
  });

  it('carries endsAt for resolved alerts', () => {
    const endsAt = Date.UTC(2024, 4, 1, 11, 0, 0);
    const n = makeNotification({ status: 'resolved', alerts: [makeAlert('pressure', { status: 'resolved', endsAt })] });
    const p = alertmanagerPayload(n, 'r');
    expect(p.status).toBe('resolved');
    expect(p.alerts[0]).toMatchObject({ status: 'resolved', endsAt: '2024-05-01T11:00:00.000Z' });
    expect(p.commonLabels).toEqual(n.alerts[0]!.labels);
  });
});

describe('alertmanager sender', () => {
  it('posts the payload as JSON', async () => {
    const server = await startTestServer(() => ({ status: 200, body: '' }));
    servers.push(server);
    const def: AlertmanagerDef = { kind: 'alertmanager', name: 'am', location: 'rules/actions.yaml:40:3', url: `${server.url}/alerts`, receiver: 'ml-oncall' };
    const n = makeNotification();
    expect(await createSender(def, {}).deliver(n)).toEqual({ outcome: 'delivered', status: 200, detail: 'HTTP 200' });
    expect(server.requests[0]!.url).toBe('/alerts');
    expect(JSON.parse(server.requests[0]!.body)).toEqual(JSON.parse(JSON.stringify(alertmanagerPayload(n, 'ml-oncall'))));
  });
});
