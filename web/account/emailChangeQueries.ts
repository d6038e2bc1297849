import type { PersonalData } from '../../platform/personalData/index.ts';
import type { Pool } from '../../platform/postgres.ts';
import { addressState, type AddressRefusal } from '../shared/addressState.ts';

/** The address an account uses, and whether the mail server refused it for good (its codes, and when). */
export type CurrentAddress = { email: string; refused?: AddressRefusal };

/**
 * The address an account uses now, as the read model has it (a requested change shows only once confirmed), opened
 * with the person's key (docs/design.md §9); with the mail server's refusal of it, if it refused this very address.
 */
export async function currentAddressOf(
  deps: { pool: Pool; schema: string; personal: PersonalData },
  userId: string,
): Promise<CurrentAddress> {
  const state = await addressState(deps.pool, deps.schema, userId);
  if (!state) return { email: '' };
  const email = await deps.personal.reveal(userId, 'email', state.sealedEmail);
  return state.refused ? { email, refused: state.refused } : { email };
}
