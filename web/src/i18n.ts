import en from '../messages/en.json';
import zh from '../messages/zh-CN.json';
import { useStore, Store } from './store.js';

/** The two languages the port's staff read; Chinese first. */
export const LOCALES = { 'zh-CN': zh, en } as const;
export type Locale = keyof typeof LOCALES;
export type MessageKey = keyof typeof zh;

const saved = localStorage.getItem('portwatch.locale');
export const localeStore = new Store<Locale>(saved === 'en' || saved === 'zh-CN' ? saved : 'zh-CN');
/** The site's IANA time zone (from /api/site); every time on the page is shown in it. */
export const timeZoneStore = new Store<string>('Asia/Shanghai');

export function setLocale(l: Locale): void {
  localStorage.setItem('portwatch.locale', l);
  document.documentElement.lang = l;
  localeStore.set(l);
}

/** A message with {name} placeholders filled in; a missing key shows itself, so it is seen and fixed. */
export function translate(locale: Locale, key: MessageKey, params?: Record<string, string | number>): string {
  const text: string = (LOCALES[locale] as Record<string, string>)[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

export function t(key: MessageKey, params?: Record<string, string | number>): string {
  return translate(localeStore.get(), key, params);
}

/** Re-renders the component when the language or the site's time zone changes. */
export function useI18n() {
  const locale = useStore(localeStore);
  const timeZone = useStore(timeZoneStore);
  return {
    locale,
    t: (key: MessageKey, params?: Record<string, string | number>) => translate(locale, key, params),
    time: (v: string | number | Date | null | undefined) => formatTime(v, locale, timeZone, false),
    dateTime: (v: string | number | Date | null | undefined) => formatTime(v, locale, timeZone, true),
  };
}

const formatters = new Map<string, Intl.DateTimeFormat>();
export function formatTime(v: string | number | Date | null | undefined, locale: Locale, timeZone: string, withDate: boolean): string {
  if (v === null || v === undefined || v === '') return '—';
  const d = v instanceof Date ? v : new Date(v);
  if (Number.isNaN(d.getTime())) return '—';
  const key = `${locale}|${timeZone}|${withDate}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, {
      timeZone,
      hour12: false,
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      ...(withDate ? { year: 'numeric', month: '2-digit', day: '2-digit' } : {}),
    });
    formatters.set(key, f);
  }
  return f.format(d);
}
