// English and Japanese labels from static/i18n/{lang}.json. Both are loaded at start so
// the toggle is instant. Missing keys fall back to English, then to the key itself.

const tables = {};
let current = "en";

export const LANGS = ["en", "ja"];

export async function loadLanguages() {
  await Promise.all(
    LANGS.map(async (lang) => {
      const response = await fetch(`/static/i18n/${lang}.json`);
      tables[lang] = await response.json();
    }),
  );
}

export function setLang(lang) {
  current = LANGS.includes(lang) ? lang : "en";
  document.documentElement.lang = current;
}

export function lang() {
  return current;
}

export function has(key) {
  return key in (tables[current] || {}) || key in (tables.en || {});
}

/** The label of `key` with {name} placeholders filled from `vars`. */
export function t(key, vars = null) {
  let text = tables[current]?.[key] ?? tables.en?.[key] ?? key;
  if (vars) {
    for (const [name, value] of Object.entries(vars)) text = text.replaceAll(`{${name}}`, value);
  }
  return text;
}

/** Translate every element carrying data-i18n / data-i18n-title / data-i18n-aria. */
export function applyTranslations(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll("[data-i18n-aria]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nAria));
  }
}
