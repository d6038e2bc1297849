import type { ContainerRuntimeClient } from 'testcontainers';

/**
 * The container engine testcontainers finds (DOCKER_HOST, ~/.testcontainers.properties, the usual sockets), loaded
 * only when a test run asks for one: the library takes half a second to import.
 */
export async function containerEngine(): Promise<ContainerRuntimeClient> {
  // The containers share the machine's network, so their ports are on this machine's loopback. Without this, a test
  // run inside a container (/.dockerenv) looks for the gateway of a bridge network the engine may not have.
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';
  const { getContainerRuntimeClient } = await import('testcontainers');
  return getContainerRuntimeClient();
}

/** Whether a container engine answers. */
export async function containerEngineAnswers(): Promise<boolean> {
  try {
    await containerEngine();
    return true;
  } catch {
    return false;
  }
}
