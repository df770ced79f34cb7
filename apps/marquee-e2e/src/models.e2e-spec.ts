import OpenAI from 'openai';
import { openai } from './support/clients';
import { rejectionOf } from './support/errors';
import { e2eStack } from './support/stack';

const client = openai();
const { model } = e2eStack();

describe('GET /v1/models', () => {
  it('lists the served model', async () => {
    const ids = [];
    for await (const entry of client.models.list()) ids.push(entry.id);

    expect(ids).toContain(model);
  });

  it('retrieves a model by name', async () => {
    const entry = await client.models.retrieve(model);

    expect(entry).toMatchObject({ id: model, object: 'model' });
    expect(typeof entry.created).toBe('number');
    expect(typeof entry.owned_by).toBe('string');
  });

  it('answers 404 model_not_found for a model that does not exist', async () => {
    const error = await rejectionOf(client.models.retrieve('no-such-model'));

    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error).toMatchObject({ status: 404, code: 'model_not_found' });
  });
});
