// `rows`: notes of two organizations, for the batch calls. After the block: every note came back.
const rows = [
  { note: 'prefers email', org: 'org_1' },
  { note: 'call back on Tuesday', org: 'org_2' },
  { note: 'VIP', org: 'org_1' },
];
// ---- block ----
if (plain.length !== rows.length || plain.some((r, i) => !r.ok || r.value !== rows[i]?.note)) {
  throw new Error('the batch did not round-trip');
}
