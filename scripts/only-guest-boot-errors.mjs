// Exit 0 when a run's only non-passing outcomes are lab ERRORs from an L2 guest that never reached
// its shell: it reset itself (GUEST_RESET_BEFORE_SHELL) or hung booting (GUEST_NOT_READY), the
// nested lab's known instability; print them. Exit 1 otherwise: any FAIL or UNEXPECTED, any other ERROR, an incomplete run.
// usage: node scripts/only-guest-boot-errors.mjs <results.json>
import { readFileSync } from 'node:fs';

const results = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const bad = results.tests.filter((t) => ['FAIL', 'ERROR', 'UNEXPECTED'].includes(t.outcome));
const bootErrors = bad.filter((t) => t.outcome === 'ERROR' && (t.error?.causeChain ?? []).some((line) => /^\[(GUEST_RESET_BEFORE_SHELL|GUEST_NOT_READY)\]/.test(line)));
for (const t of bootErrors) console.log(`lab ERROR (nested L2 never reached its shell, ${t.attempts} attempt(s)): ${t.title}`);
process.exit(results.isComplete === true && bad.length > 0 && bootErrors.length === bad.length ? 0 : 1);
