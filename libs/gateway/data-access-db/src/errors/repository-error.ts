import { Prisma } from '../generated/prisma/client';

/** Why a write was refused: a unique value taken, or a row still referenced by others. */
export type RepositoryErrorCode = 'duplicate' | 'in_use';

/** A write PostgreSQL refused for a reason the caller can act on. */
export class RepositoryError extends Error {
  constructor(
    readonly code: RepositoryErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RepositoryError';
  }
}

/** Turns Prisma's unique and foreign-key violations into a {@link RepositoryError}; rethrows the rest. */
export function rethrowConstraint(error: unknown, what: string): never {
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    if (error.code === 'P2002')
      throw new RepositoryError('duplicate', `${what} already exists.`);
    if (error.code === 'P2003')
      throw new RepositoryError('in_use', `${what} is still in use.`);
  }
  throw error;
}

/** True for Prisma's "record to update or delete does not exist". */
export function isMissingRecord(error: unknown): boolean {
  return (
    error instanceof Prisma.PrismaClientKnownRequestError &&
    error.code === 'P2025'
  );
}
