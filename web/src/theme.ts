/**
 * Day or night: the person's choice in this browser, else the system's (prefers-color-scheme).
 * The choice is an attribute on <html> that style.css reads; nothing else changes.
 */
export type Theme = 'day' | 'night';

const KEY = 'hotline.theme';

function chosen(): Theme | undefined {
  const value = localStorage.getItem(KEY);
  return value === 'day' || value === 'night' ? value : undefined;
}

/** The theme in force now. */
export function currentTheme(): Theme {
  return (
    chosen() ?? (window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'night' : 'day')
  );
}

/** Applies the stored choice, if any, before the first render. */
export function applyTheme(): void {
  const theme = chosen();
  if (theme) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}

export function setTheme(theme: Theme): void {
  localStorage.setItem(KEY, theme);
  applyTheme();
}
