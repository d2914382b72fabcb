// The service's own process lifecycle with faults injected into its scan workers (argv[2]: JSON).
import { main } from '../../src/main.ts';

await main({ faults: JSON.parse(process.argv[2] ?? '{}') });
