// A worker thread starts without the tsx hooks the main thread registered (bin/cra.mjs): register them here too.
import { register } from 'tsx/esm/api';

register();
await import('./prepareWorker.ts');
