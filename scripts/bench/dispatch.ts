/**
 * Risk and dispatch benchmark: each figure next to a peer measured in the same run.
 *
 *   npm run bench:dispatch
 *   npm run bench:dispatch -- --vessels 100000 --candidates 100000 --appends 2000
 *
 * 1. Risk scoring of N vessels against the shipped models (Paris MoU SRP and the
 *    port model), in process (vessels/s); and the whole `portwatch risk score`
 *    process over the same vessels as a JSON-lines file (parse, validate, score,
 *    print) against a whole `node` process that only parses and prints the same
 *    lines (the floor any scorer reading that file pays).
 * 2. A target draw and its verification over N candidates (ms), against hashing
 *    the canonical candidate list alone (the floor both pay).
 * 3. Audit appends per second with the hash chain (appendAudit: advisory lock,
 *    head read, hash and INSERT in one statement per entry; and AuditTrail with 32
 *    concurrent callers, which groups them) against a plain INSERT of the same
 *    rows, one statement each, into a table of the same shape and indexes (LIKE
 *    audit_log INCLUDING ALL; no triggers, no lock, no head read). Goal: the chain
 *    costs under 2× the plain insert. On the embedded store (in memory) and on
 *    the local PostgreSQL server (a database created and dropped here; PG_BENCH_URL
 *    points at another server's admin database).
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { appendAudit, AuditTrail, canonicalJson, sha256Hex } from '../../pipeline/audit/index.js';
import { candidatesSha256, runTargetDraw, verifyDraw, type TargetCandidate } from '../../pipeline/dispatch/index.js';
import { silentLogger } from '../../pipeline/log/index.js';
import { imoCheckDigit, loadRiskModel, scoreVessel, type VesselFacts } from '../../pipeline/risk/index.js';
import { migrate, openStore, type Store } from '../../pipeline/store/index.js';
import { reportBench } from './report.js';
import { createServerDatabase } from '../test-services/server-database.js';

const { values: args } = parseArgs({
  options: {
    vessels: { type: 'string', default: '100000' },
    candidates: { type: 'string', default: '100000' },
    appends: { type: 'string', default: '2000' },
    'skip-server': { type: 'boolean', default: false },
  },
});
const N_VESSELS = Number(args.vessels);
const N_CANDIDATES = Number(args.candidates);
const N_APPENDS = Number(args.appends);
const out = (line: string) => process.stdout.write(line + '\n');
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

// A deterministic fleet: every SRP parameter and the live signals vary.
function fleet(n: number): VesselFacts[] {
  const types = ['bulk_carrier', 'container_ship', 'oil_tanker', 'chemical_tanker', 'gas_carrier', 'passenger_ship', 'general_cargo', 'ro_ro'];
  const perf = ['high', 'medium', 'low', 'very_low'] as const;
  const lists = ['white', 'grey', 'black'] as const;
  const risks = ['very_high', 'high', 'medium_to_high', 'medium'] as const;
  const out: VesselFacts[] = [];
  for (let i = 0; i < n; i++) {
    const h = createHash('sha256').update(String(i)).digest();
    const first6 = 100_000 + (h.readUInt32BE(0) % 899_999);
    const imo = first6 * 10 + imoCheckDigit(first6 * 10);
    const inspections = Array.from({ length: h[4]! % 4 }, (_, k) => ({ date: `20${23 + (k % 3)}-0${1 + (h[5 + k]! % 9)}-1${h[8]! % 9}`, deficiencies: h[9 + k]! % 9, detained: h[12 + k]! % 5 === 0 }));
    out.push({
      imo,
      mmsi: 200_000_000 + i,
      name: `VESSEL ${i}`,
      type: types[h[16]! % types.length]!,
      built: 1985 + (h[17]! % 40),
      flag_list: lists[h[18]! % 3]!,
      flag_risk: risks[h[19]! % 4]!,
      flag_imo_audit: h[20]! % 2 === 0,
      ro_performance: perf[h[21]! % 4]!,
      ro_eu_recognised: h[22]! % 3 !== 0,
      company_performance: perf[h[23]! % 4]!,
      inspections_36m: inspections,
      alongside: h[24]! % 2 ? { berth: `B${h[25]! % 20}`, since: new Date('2026-12-05T00:00:00Z') } : null,
      events: h[26]! % 4 === 0 ? [{ id: `ev-${i}`, kind: h[27]! % 2 ? 'unauthorized_access' : 'ais_dark', time: new Date('2026-12-05T12:00:00Z'), berth: `B${h[25]! % 20}`, mmsi: 200_000_000 + i }] : [],
      declaration: { cargo_classes: h[28]! % 5 === 0 ? ['6.2'] : ['3'], health: { ill_crew: h[29]! % 11 === 0 ? 1 : 0, deaths: 0, ports_last_30_days: [] } },
    });
  }
  return out;
}

async function riskBench(dir: string) {
  out(`\n1. risk scoring, ${N_VESSELS} vessels`);
  const vessels = fleet(N_VESSELS);
  const asOf = new Date('2026-12-06T00:00:00Z');
  for (const file of ['config/risk/paris-mou-srp.yaml', 'config/risk/port.yaml']) {
    const model = loadRiskModel(file);
    let best = Infinity;
    const levels: Record<string, number> = {};
    for (let round = 0; round < 3; round++) {
      const t0 = process.hrtime.bigint();
      for (const v of vessels) {
        const s = scoreVessel(model, v, asOf);
        if (round === 0) levels[s.profile] = (levels[s.profile] ?? 0) + 1;
      }
      best = Math.min(best, ms(t0));
    }
    const rate = N_VESSELS / (best / 1000);
    out(`  ${model.name}: ${Math.round(rate).toLocaleString('en')} vessels/s in process (best of 3: ${best.toFixed(0)} ms); levels ${JSON.stringify(levels)}`);
    reportBench({ name: `risk scoring in process, ${model.name} model`, ours: Math.round(rate), unit: 'vessels/s', better: 'higher', inProcess: true });
  }
  // Whole processes: the CLI against a reader that only parses and prints the same file.
  const file = join(dir, 'vessels.jsonl');
  writeFileSync(
    file,
    vessels
      .map((v) => JSON.stringify({ imo: v.imo, name: v.name, type: v.type, built: v.built, flag_list: v.flag_list, ...(v.flag_list === 'black' ? { flag_risk: v.flag_risk } : {}), flag_imo_audit: v.flag_imo_audit, ro_performance: v.ro_performance, ro_eu_recognised: v.ro_eu_recognised, company_performance: v.company_performance, inspections_36m: v.inspections_36m }))
      .join('\n') + '\n',
  );
  const peerScript = join(dir, 'peer.mjs');
  writeFileSync(peerScript, `import { createReadStream } from 'node:fs'; import { createInterface } from 'node:readline';\nlet o = '';\nfor await (const l of createInterface({ input: createReadStream(process.argv[2]) })) { o += JSON.stringify(JSON.parse(l)) + '\\n'; if (o.length > 65536) { process.stdout.write(o); o = ''; } }\nprocess.stdout.write(o);\n`);
  const run = (cmd: string[]) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, cmd, { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`${cmd.join(' ')} exited ${r.status}: ${r.stderr.toString().slice(0, 500)}`);
    return ms(t0);
  };
  const cli = run(['--import', 'tsx', 'cli/main.ts', 'risk', 'score', '--vessels', file, '--as-of', '2026-12-06']);
  const peer = run([peerScript, file]);
  out(`  portwatch risk score (whole process): ${cli.toFixed(0)} ms = ${Math.round(N_VESSELS / (cli / 1000)).toLocaleString('en')} vessels/s; parse-and-print peer: ${peer.toFixed(0)} ms`);
  reportBench({ name: `portwatch risk score, ${N_VESSELS} vessels, whole process vs parse-and-print`, ours: Math.round(N_VESSELS / (cli / 1000)), peer: Math.round(N_VESSELS / (peer / 1000)), unit: 'vessels/s', better: 'higher' });
}

function drawBench() {
  out(`\n2. draw and verification, ${N_CANDIDATES} candidates`);
  const profiles = ['HRS', 'SRS', 'LRS'];
  const candidates: TargetCandidate[] = Array.from({ length: N_CANDIDATES }, (_, i) => ({ id: `IMO${1_000_000 + i}`, profile: profiles[i % 3]!, berth: `B${i % 20}` }));
  const seed = randomBytes(32).toString('hex');
  const rates = { HRS: 1, SRS: 0.3, LRS: 0.05 };
  let draw = Infinity;
  let verify = Infinity;
  let floor = Infinity;
  let selected = 0;
  for (let round = 0; round < 3; round++) {
    let t0 = process.hrtime.bigint();
    const record = runTargetDraw({ seed, candidates, rates });
    draw = Math.min(draw, ms(t0));
    selected = record.selected.length;
    t0 = process.hrtime.bigint();
    const v = verifyDraw(record, candidates);
    verify = Math.min(verify, ms(t0));
    if (!v.ok) throw new Error('the draw did not verify');
    t0 = process.hrtime.bigint();
    candidatesSha256(candidates);
    floor = Math.min(floor, ms(t0));
  }
  out(`  draw ${draw.toFixed(0)} ms, verification ${verify.toFixed(0)} ms (${selected} selected); hashing the canonical list alone: ${floor.toFixed(0)} ms`);
  reportBench({ name: `target draw over ${N_CANDIDATES} candidates vs hashing the list alone`, ours: Math.round(draw), peer: Math.round(floor), unit: 'ms', better: 'lower', inProcess: true });
  reportBench({ name: `draw verification over ${N_CANDIDATES} candidates vs hashing the list alone`, ours: Math.round(verify), peer: Math.round(floor), unit: 'ms', better: 'lower', inProcess: true });
}

const entry = (i: number) => ({ kind: 'inspection.assigned', actor: 'dispatch@bench', subject: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`, payload: { inspection: i, inspector: `insp-${i % 30}`, draw_id: `d-${i}`, ack_deadline: '2026-12-06T10:00:00.000Z' }, time: new Date(Date.UTC(2026, 11, 6, 0, 0, 0, i)) });

async function auditBench(store: Store, label: string) {
  await store.exec('CREATE TABLE IF NOT EXISTS audit_plain (LIKE audit_log INCLUDING ALL)');
  const rows = Array.from({ length: N_APPENDS }, (_, i) => entry(i));
  const results: Record<string, number> = {};
  const reset = async () => {
    await store.exec('ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_truncate; TRUNCATE audit_log; ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_truncate; TRUNCATE audit_plain');
  };
  const methods: Record<string, () => Promise<void>> = {
    'plain INSERT': async () => {
      let prev = '0'.repeat(64);
      for (let i = 0; i < rows.length; i++) {
        const e = rows[i]!;
        // The same row, hash included (computed as the chain does), without lock, head read or transaction.
        const hash = sha256Hex(canonicalJson({ ...e, prev }));
        await store.query('INSERT INTO audit_plain (seq, time, kind, actor, subject, payload, prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6::jsonb,$7,$8)', [i + 1, e.time, e.kind, e.actor, e.subject, JSON.stringify(e.payload), prev, hash]);
        prev = hash;
      }
    },
    'chain, one by one': async () => {
      for (const e of rows) await appendAudit(store, e);
    },
    'chain, 32 concurrent callers (AuditTrail)': async () => {
      const trail = new AuditTrail(store);
      let next = 0;
      await Promise.all(Array.from({ length: 32 }, async () => {
        while (next < rows.length) await trail.append(rows[next++]!);
      }));
    },
  };
  for (let round = 0; round < 2; round++) {
    for (const [name, fn] of Object.entries(methods)) {
      await reset();
      const t0 = process.hrtime.bigint();
      await fn();
      const rate = N_APPENDS / (ms(t0) / 1000);
      results[name] = Math.max(results[name] ?? 0, rate);
    }
  }
  const chainOk = (await store.query('SELECT count(*)::int AS n FROM audit_log')).rows[0]!.n;
  out(`  ${label}: ${Object.entries(results).map(([k, v]) => `${k} ${Math.round(v).toLocaleString('en')}/s`).join(', ')} (${chainOk} entries chained in the last round)`);
  const plain = results['plain INSERT']!;
  for (const k of ['chain, one by one', 'chain, 32 concurrent callers (AuditTrail)']) {
    reportBench({ name: `audit appends, ${label}, ${k} vs plain INSERT of the same rows`, ours: Math.round(results[k]!), peer: Math.round(plain), unit: 'appends/s', better: 'higher', goal: 0.5, note: 'goal: the chain costs under 2x the plain insert' });
  }
  await store.exec('DROP TABLE audit_plain');
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'pw-bench-dispatch-'));
  try {
    await riskBench(dir);
    drawBench();
    out(`\n3. audit appends, ${N_APPENDS} entries`);
    const embedded = await openStore({ dataDir: 'memory://', logger: silentLogger() });
    await migrate(embedded, { logger: silentLogger() });
    await auditBench(embedded, 'embedded');
    await embedded.close();
    if (!args['skip-server']) {
      const db = await createServerDatabase('pw_bench_audit', process.env.PG_BENCH_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
      try {
        const server = await openStore({ databaseUrl: db.url, logger: silentLogger(), poolSize: 4 });
        await migrate(server, { logger: silentLogger() });
        await auditBench(server, 'PostgreSQL server');
        await server.close();
      } finally {
        await db.drop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
