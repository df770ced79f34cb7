import { Injectable } from '@nestjs/common';
import type { Prisma, StoredResponse } from '../generated/prisma/client';
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

/**
 * Stored Responses API responses. Every read and delete is scoped to a tenant: another tenant's
 * id is indistinguishable from one that does not exist.
 */
@Injectable()
export class StoredResponseRepository {
  constructor(private readonly prisma: PrismaService) {}

  async create(response: NewStoredResponse): Promise<void> {
    await this.prisma.storedResponse.create({
      data: {
        id: response.id,
        tenantId: response.tenantId,
        body: response.body as Prisma.InputJsonObject,
        conversation: response.conversation as Prisma.InputJsonArray,
      },
    });
  }

  /** The tenant's response `id`, or null (none, or another tenant's). */
  find(tenantId: string, id: string): Promise<StoredResponse | null> {
    return this.prisma.storedResponse.findFirst({ where: { id, tenantId } });
  }

  /** Deletes the tenant's response `id`; false when there was none. */
  async delete(tenantId: string, id: string): Promise<boolean> {
    const { count } = await this.prisma.storedResponse.deleteMany({
      where: { id, tenantId },
    });
    return count > 0;
  }
}
