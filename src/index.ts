// The process entry; everything it does is in main.ts.
import { main } from './main.ts';

await main();
