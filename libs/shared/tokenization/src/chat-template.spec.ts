import { ChatTemplate } from './chat-template';

describe('ChatTemplate', () => {
  it('renders ChatML with a generation prompt when the model has no template', () => {
    const text = new ChatTemplate(undefined).render([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ]);
    expect(text).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  it("renders a model's own template with its bos and eos tokens", () => {
    const template = new ChatTemplate(
      '{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}',
      { bosToken: '<s>', eosToken: '</s>' },
    );
    expect(template.render([{ role: 'user', content: 'Hi' }])).toBe(
      '<s>[user] Hi</s>[assistant]',
    );
  });
});
