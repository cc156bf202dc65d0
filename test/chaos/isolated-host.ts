import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });

/**
 * A second "machine" on this one: a network namespace of the test's own,
 * joined to this host by a veth pair on a /30 of its own, whose link the
 * test can take down (a worker host cut off the network) and up again.
 * Processes in it reach the host only through `hostAddress`.
 */
export class IsolatedHost {
  readonly name = `vad-chaos-${randomBytes(3).toString('hex')}`;
  private readonly hostSide = `vh${this.name.slice(-6)}`;
  private readonly innerSide = `vn${this.name.slice(-6)}`;
  readonly hostAddress: string;
  private readonly innerAddress: string;

  constructor(subnet = 200 + Math.floor(Math.random() * 50)) {
    this.hostAddress = `10.213.${subnet}.1`;
    this.innerAddress = `10.213.${subnet}.2`;
  }

  /** Whether namespaces can be made here (root with iproute2). */
  static available(): boolean {
    const probe = new IsolatedHost();
    try {
      ip('netns', 'add', probe.name);
      ip('netns', 'del', probe.name);
      return true;
    } catch {
      return false;
    }
  }

  create(): void {
    ip('netns', 'add', this.name);
    ip('link', 'add', this.hostSide, 'type', 'veth', 'peer', 'name', this.innerSide);
    ip('link', 'set', this.innerSide, 'netns', this.name);
    ip('addr', 'add', `${this.hostAddress}/30`, 'dev', this.hostSide);
    ip('link', 'set', this.hostSide, 'up');
    ip('netns', 'exec', this.name, 'ip', 'addr', 'add', `${this.innerAddress}/30`, 'dev', this.innerSide);
    ip('netns', 'exec', this.name, 'ip', 'link', 'set', this.innerSide, 'up');
    ip('netns', 'exec', this.name, 'ip', 'link', 'set', 'lo', 'up');
  }

  /** The command prefix that runs a process inside the namespace. */
  get wrap(): string[] {
    return ['ip', 'netns', 'exec', this.name];
  }

  /** The cable is pulled: no packet in or out, no reset either (connections hang as on a real cut). */
  cut(): void {
    ip('link', 'set', this.hostSide, 'down');
  }

  restore(): void {
    ip('link', 'set', this.hostSide, 'up');
  }

  destroy(): void {
    try {
      ip('link', 'del', this.hostSide);
    } catch {
      // gone with the namespace already
    }
    try {
      ip('netns', 'del', this.name);
    } catch {
      // never made
    }
  }
}
