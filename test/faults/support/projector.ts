import { startServices, type ServiceProcess } from './services.ts';
import type { AnyLab } from './lab.ts';

/** The projector as its own `cra start projector` process (services it runs beside stay up when it is restarted). */
export class ProjectorProcess {
  readonly generations: ServiceProcess[] = [];
  constructor(
    private readonly lab: AnyLab,
    private readonly services: string[] = ['projector'],
    private readonly env: Record<string, string> = {},
  ) {}

  get current(): ServiceProcess {
    const p = this.generations.at(-1);
    if (!p) throw new Error('the projector was not started');
    return p;
  }

  async start(): Promise<ServiceProcess> {
    const p = await startServices(this.services, this.lab.env(this.env), this.services.join('+'));
    this.generations.push(p);
    return p;
  }

  async stop(): Promise<void> {
    await this.generations.at(-1)?.stop();
  }

  output(): string {
    return this.generations.map((g) => g.output.join('\n')).join('\n');
  }
}
