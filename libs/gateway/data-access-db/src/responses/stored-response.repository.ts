import { Injectable } from '@nestjs/common';
import type { StoredResponse as Row } from '../generated/prisma/client';
import { PrismaService } from '../prisma.service';

/** What is kept of one response of `POST /v1/responses`. */
export interface NewStoredResponse {
  /** `resp_...`. */
  id: string;
  tenantId: string;
  /** The response object as returned to the client (plain JSON data). */
  body: object;
  /** The input items the model was given before its output (see the Prisma model). */
  conversation: readonly object[];
}

/** A stored response, its JSON parsed back. */
export interface StoredResponseRecord {
  id: string;
  tenantId: string;
  body: unknown;
  conversation: unknown;
  createdAt: Date;
}

const parsed = (row: Row): StoredResponseRecord => ({
  ...row,
  body: JSON.parse(row.body),
  conversation: JSON.parse(row.conversation),
});

/**
 * Stored Responses API responses. Every read and delete is scoped to a tenant: another tenant's
 * id is indistinguishable from one that does not exist. The JSON is kept as text (see the Prisma
 * model for why).
 */
@Injectable()
export class StoredResponseRepository {
  constructor(private readonly prisma: PrismaService) {}

  async create(response: NewStoredResponse): Promise<void> {
    await this.prisma.storedResponse.create({
      data: {
        id: response.id,
        tenantId: response.tenantId,
        body: JSON.stringify(response.body),
        conversation: JSON.stringify(response.conversation),
      },
    });
  }

  /** The tenant's response `id`, or null (none, or another tenant's). */
  async find(
    tenantId: string,
    id: string,
  ): Promise<StoredResponseRecord | null> {
    const row = await this.prisma.storedResponse.findFirst({
      where: { id, tenantId },
    });
    return row ? parsed(row) : null;
  }

  /** Deletes the tenant's response `id`; false when there was none. */
  async delete(tenantId: string, id: string): Promise<boolean> {
    const { count } = await this.prisma.storedResponse.deleteMany({
      where: { id, tenantId },
    });
    return count > 0;
  }
}
