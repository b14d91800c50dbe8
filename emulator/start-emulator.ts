import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEmulator, type Emulator } from './create-emulator';
import type { EmulatorOptions } from './options';

export interface StartEmulatorOptions extends EmulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1; use 0.0.0.0 inside a container. */
  host?: string;
}

export interface RunningEmulator {
  url: string;
  emulator: Emulator;
  server: Server;
  close(): Promise<void>;
}

/** Listens on a real socket; publicBaseUrl follows the actual port unless it was given explicitly. */
export async function startEmulator(options: StartEmulatorOptions = {}): Promise<RunningEmulator> {
  const { port = 0, host = '127.0.0.1', ...emulatorOptions } = options;
  const emulator = createEmulator(emulatorOptions);
  const server = createServer(emulator.app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost =
    host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${address.port}`;
  if (!options.publicBaseUrl) emulator.setPublicBaseUrl(url);

  let closed: Promise<void> | undefined;
  return {
    url,
    emulator,
    server,
    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive sockets of test clients would otherwise hold close() open.
        server.closeAllConnections();
      }).then(() => emulator.persist());
      return closed;
    },
  };
}
