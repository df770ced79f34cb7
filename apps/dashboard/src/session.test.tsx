import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SignIn } from './session';

afterEach(cleanup);

describe('SignIn', () => {
  it('asks for the token in a labelled password field and submits it trimmed', () => {
    const onSubmit = vi.fn();
    render(<SignIn onSubmit={onSubmit} />);
    const field = screen.getByLabelText('Admin token') as HTMLInputElement;
    expect(field.type).toBe('password');
    fireEvent.change(field, { target: { value: '  mqa_secret  ' } });
    fireEvent.submit(field.closest('form') as HTMLFormElement);
    expect(onSubmit).toHaveBeenCalledWith('mqa_secret');
  });

  it('announces why a token was refused', () => {
    render(
      <SignIn
        onSubmit={vi.fn()}
        error="That token was not accepted (401): check it and try again."
      />,
    );
    expect(screen.getByRole('alert').textContent).toContain(
      'not accepted (401)',
    );
  });
});
