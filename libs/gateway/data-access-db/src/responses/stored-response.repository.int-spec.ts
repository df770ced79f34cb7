import type { PrismaService } from '../prisma.service';
import { TenantRepository } from '../tenants/tenant.repository';
import { type UsageOwnerDb, usageOwnerDb } from '../testing/usage-owner';
import { StoredResponseRepository } from './stored-response.repository';

describe('StoredResponseRepository (PostgreSQL)', () => {
  let owner: UsageOwnerDb;
  let prisma: PrismaService;
  let responses: StoredResponseRepository;
  let tenantId: string;
  let otherTenantId: string;

  beforeAll(async () => {
    owner = await usageOwnerDb('responses');
    ({ prisma } = owner);
    tenantId = owner.ids.tenantId;
    otherTenantId = (await new TenantRepository(prisma).create('other')).id;
    responses = new StoredResponseRepository(prisma);
  });

  afterAll(async () => {
    await owner?.drop();
  });

  it('keeps any text a model generates, NUL and lone surrogates included, and reads it back as written', async () => {
    const body = {
      id: 'resp_text',
      output: [{ content: [{ text: 'a\u0000b \ud800 \u{1f3ac} "q" \\' }] }],
    };
    const conversation = [{ type: 'message', content: 'x\u0000y' }];
    await responses.create({ id: 'resp_text', tenantId, body, conversation });
    expect(await responses.find(tenantId, 'resp_text')).toMatchObject({
      id: 'resp_text',
      tenantId,
      body,
      conversation,
    });
  });

  it("finds and deletes only within the tenant: another tenant's id is as missing as an unknown one", async () => {
    await responses.create({
      id: 'resp_owned',
      tenantId,
      body: { id: 'resp_owned' },
      conversation: [],
    });
    expect(await responses.find(otherTenantId, 'resp_owned')).toBeNull();
    expect(await responses.find(tenantId, 'resp_unknown')).toBeNull();
    expect(await responses.delete(otherTenantId, 'resp_owned')).toBe(false);
    expect(await responses.find(tenantId, 'resp_owned')).not.toBeNull();
    expect(await responses.delete(tenantId, 'resp_owned')).toBe(true);
    expect(await responses.find(tenantId, 'resp_owned')).toBeNull();
    expect(await responses.delete(tenantId, 'resp_owned')).toBe(false);
  });
});
