import { packageTestConfig } from '../../vitest.shared.js';

// Its cluster (three brokers), a broker of the fault test's own and the shared one: one file at a time.
export default packageTestConfig(import.meta.dirname, { serial: true });
