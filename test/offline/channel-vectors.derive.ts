/**
 * Prints the offline channel's known-answer vectors from the node:crypto
 * reference (`channel-reference.ts`), for pasting into `channel-vectors.test.ts`:
 *
 *   npx tsx test/offline/channel-vectors.derive.ts
 */
import { vectors } from "./channel-reference.js";

for (const [name, hex] of Object.entries(vectors())) console.log(`  ${name}:\n    "${hex}",`);
