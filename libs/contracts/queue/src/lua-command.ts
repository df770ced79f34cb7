import type { Redis } from 'ioredis';

/** A Lua script bound to one connection: call it with its keys, then its arguments. */
export type LuaCommand = (...keysThenArgs: string[]) => Promise<unknown>;

/**
 * `lua` as a command of `client`, through ioredis's `defineCommand`: it runs by its SHA
 * (EVALSHA), and the script's text goes over the wire only when Redis does not have it yet
 * (after a restart), where a plain EVAL sends the whole text with every call.
 */
export function luaCommand(
  client: Redis,
  name: string,
  lua: string,
  numberOfKeys: number,
): LuaCommand {
  const commands = client as unknown as Record<string, LuaCommand | undefined>;
  if (typeof commands[name] !== 'function')
    client.defineCommand(name, { lua, numberOfKeys });
  return (commands[name] as LuaCommand).bind(client);
}
