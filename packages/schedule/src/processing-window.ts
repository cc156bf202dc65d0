import { DateTime, IANAZone } from 'luxon';

/** A wall-clock time of day, e.g. 22:00. */
export interface TimeOfDay {
  hour: number;
  minute: number;
}

export interface WindowSpan {
  opensAt: Date;
  closesAt: Date;
}

const TIME = /^([01]?\d|2[0-3]):([0-5]\d)$/;

export function parseTimeOfDay(text: string): TimeOfDay | undefined {
  const match = TIME.exec(text.trim());
  return match ? { hour: Number(match[1]), minute: Number(match[2]) } : undefined;
}

export function isTimeZone(name: string): boolean {
  return IANAZone.isValidZone(name);
}

/**
 * The nightly window in which videos are processed, e.g. 22:00–06:00 in
 * Europe/Berlin. Times are wall-clock times in the zone, so the window keeps
 * its local hours across DST changes (a night is an hour shorter or longer in
 * UTC); a window whose end is not after its start crosses midnight. A time
 * that does not exist on a DST day (02:30 when clocks jump from 02:00 to
 * 03:00) is moved forward by the gap (to 03:30), as luxon does.
 */
export class ProcessingWindow {
  constructor(
    readonly start: TimeOfDay,
    readonly end: TimeOfDay,
    readonly timeZone: string,
  ) {
    if (!isTimeZone(timeZone)) throw new Error(`unknown time zone "${timeZone}"`);
    if (start.hour === end.hour && start.minute === end.minute) {
      throw new Error('the window opens and closes at the same time');
    }
  }

  /** From "22:00-06:00"; undefined when the text is not of that form. */
  static parse(text: string, timeZone: string): ProcessingWindow | undefined {
    const [from, to, ...rest] = text.split('-');
    const start = parseTimeOfDay(from ?? '');
    const end = parseTimeOfDay(to ?? '');
    if (!start || !end || rest.length) return undefined;
    return new ProcessingWindow(start, end, timeZone);
  }

  get crossesMidnight(): boolean {
    return this.end.hour * 60 + this.end.minute <= this.start.hour * 60 + this.start.minute;
  }

  toString(): string {
    const t = (v: TimeOfDay) => `${String(v.hour).padStart(2, '0')}:${String(v.minute).padStart(2, '0')}`;
    return `${t(this.start)}-${t(this.end)} ${this.timeZone}`;
  }

  /** The window that opens on the given local calendar day. */
  private spanFrom(day: DateTime): WindowSpan {
    const at = (d: DateTime, t: TimeOfDay) =>
      DateTime.fromObject(
        { year: d.year, month: d.month, day: d.day, hour: t.hour, minute: t.minute },
        { zone: this.timeZone },
      );
    const opens = at(day, this.start);
    const closes = at(this.crossesMidnight ? day.plus({ days: 1 }) : day, this.end);
    return { opensAt: opens.toJSDate(), closesAt: closes.toJSDate() };
  }

  /** The window in effect at `now`, or undefined when it is closed. */
  current(now: Date): WindowSpan | undefined {
    const today = DateTime.fromJSDate(now, { zone: this.timeZone }).startOf('day');
    for (const day of [today.minus({ days: 1 }), today]) {
      const span = this.spanFrom(day);
      if (span.opensAt <= now && now < span.closesAt) return span;
    }
    return undefined;
  }

  isOpen(now: Date): boolean {
    return this.current(now) !== undefined;
  }

  /** The next window that opens after `now` (not the one in effect). */
  next(now: Date): WindowSpan {
    const today = DateTime.fromJSDate(now, { zone: this.timeZone }).startOf('day');
    for (let d = 0; d < 3; d++) {
      const span = this.spanFrom(today.plus({ days: d }));
      if (span.opensAt > now) return span;
    }
    throw new Error('no window within three days'); // cannot happen: one opens every day
  }

  /** When work that is not urgent may start: now if the window is open, else when it next opens. */
  runnableAt(now: Date): Date {
    return this.isOpen(now) ? now : this.next(now).opensAt;
  }
}
