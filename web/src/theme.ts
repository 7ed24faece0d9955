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
  return chosen() ?? (system?.matches ? 'night' : 'day');
}

const system = window.matchMedia?.('(prefers-color-scheme: dark)');
let following = false;

/**
 * Puts the theme in force on <html>, before the first render; while nothing is chosen it follows
 * the system's changes too, so style.css holds the night palette once, under `data-theme`.
 */
export function applyTheme(): void {
  document.documentElement.dataset.theme = currentTheme();
  if (!following && system) {
    following = true;
    system.addEventListener('change', () => {
      if (!chosen()) document.documentElement.dataset.theme = currentTheme();
    });
  }
}

export function setTheme(theme: Theme): void {
  localStorage.setItem(KEY, theme);
  applyTheme();
}
