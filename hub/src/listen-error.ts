import { UserError } from '@roadwatch/shared';

export interface ListenTarget {
  /** 'HTTP' or 'MQTT' */
  what: string;
  port: number;
  host: string;
  /** The environment variable that moves this listener. */
  portVariable: string;
  /** Who usually holds the port already. */
  usualHolder: string;
}

/** Turns the usual listen failures into a UserError naming the cause and the fix. */
export function explainListenError(error: NodeJS.ErrnoException, target: ListenTarget): Error {
  const { what, port, host, portVariable, usualHolder } = target;
  if (error.code === 'EADDRINUSE') {
    return new UserError(`port ${port} is already in use (${usualHolder}?)`, `stop it or set ${portVariable} to a free port (0 picks one)`);
  }
  if (error.code === 'EACCES') {
    return new UserError(`${what} port ${port}: permission denied`, `use a port above 1023 or set ${portVariable} (0 picks one)`);
  }
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
    return new UserError(`${what} host ${host} is not an address of this machine`, 'set ROADWATCH_HUB_HOST to a local address such as 0.0.0.0 or 127.0.0.1');
  }
  return error;
}
