import { deriveKeys } from '../platform/personalData/masterKey.ts';
import { userIdFor } from '../events/index.ts';

/**
 * The master key every test and the processes they start use (CRA_MASTER_KEY): a fixed value, so a test computes the
 * user ids the services derive. A test value, never a deployment's.
 */
export const TEST_MASTER_KEY = '5ea1ed0f7e57c0ffee5ea1ed0f7e57c0ffee5ea1ed0f7e57c0ffee5ea1ed0f7e';
export const testMasterKey = Buffer.from(TEST_MASTER_KEY, 'hex');
const keys = deriveKeys(testMasterKey);

/** The user id the services derive from this username under the test master key. */
export const testUserId = (username: string): string => userIdFor(username, keys.userIds);
