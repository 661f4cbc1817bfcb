/**
 * The page shell every dashboard page shares: head, navigation, footer, and
 * the security headers. Scripts load only from our own origin (no CDN, no
 * inline script): page data travels in `<script type="application/json">`
 * blocks that the browser never executes.
 */
import { createHash } from 'node:crypto'
import type { FastifyReply } from 'fastify'
import { html, type HtmlValue, type SafeHtml } from './html.ts'
import { STATIC_PREFIX } from './static.ts'
import { LANG_PARAM, LANGUAGES, LANGUAGE_NAMES, translator, type Locale } from './i18n/index.ts'

/** English, for pages rendered without a request's locale. */
const ENGLISH: Locale = { lang: 'en', dir: 'ltr', t: translator('en') }

/**
 * The options every page route is registered with (routes/dashboard.ts):
 * out of /openapi.json. A page with query parameters adds its querystring
 * schema, the one schema fastify checks.
 */
export interface PageRoute {
  schema: { hide: true; querystring?: Record<string, unknown> }
}

/** A page route's options with its own query-string schema (the one schema fastify checks); `lang` is added. */
export function withQuery(route: PageRoute, querystring: { properties: Record<string, unknown> }): PageRoute {
  return { ...route, schema: { ...route.schema, querystring: { ...querystring, properties: { ...querystring.properties, lang: LANG_PARAM } } } }
}

/** What a page passes to {@link page}. */
export interface PageOptions {
  /** The document title (text, escaped). */
  title: string
  /** The page body. */
  body: SafeHtml
  /** Scripts under the static prefix to load at the end of the body (file names). */
  scripts?: string[]
  /** Extra stylesheets under the static prefix (file names). */
  styles?: string[]
  /** Breadcrumb trail: [label, href] pairs; the last one is the current page. */
  crumbs?: Array<[string, string]>
  /** The viewer's language (i18n/index.ts, localeOf). Default English. */
  locale?: Locale
}

/**
 * Content-Security-Policy for every dashboard page: defence in depth behind
 * the escaping, so that even a missed escape cannot run a script.
 */
export const DASHBOARD_CSP = cspWithStyles([])

/**
 * The dashboard's policy, with inline `<style>` blocks allowed by their
 * SHA-256 (a page that must stand alone, such as the block report's HTML,
 * carries its stylesheet inline); nothing else is loosened.
 */
export function cspWithStyles(inlineStyles: readonly string[], styleHashes: readonly string[] = []): string {
  const hashes = [...inlineStyles.map(css => 'sha256-' + createHash('sha256').update(css, 'utf8').digest('base64')), ...styleHashes].map(h => ` '${h}'`).join('')
  return ["default-src 'self'", "script-src 'self'", `style-src 'self'${hashes}`, "img-src 'self' data:", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'"].join(
    '; '
  )
}

/**
 * The policy of swagger-ui at /docs, as tight as it works (checked in
 * Chromium by test/dashboard/dashboard.test.ts): its page loads its scripts
 * and stylesheets from /docs/static, its logo is a data: URL, and it fetches
 * the OpenAPI document from the aggregator.
 */
export const DOCS_CSP = cspWithStyles([], ['sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='])

/** Renders a full HTML document, in the locale's language and direction. */
export function page(opts: PageOptions): SafeHtml {
  const loc = opts.locale ?? ENGLISH
  const t = loc.t
  const crumbs: HtmlValue =
    opts.crumbs === undefined || opts.crumbs.length === 0
      ? null
      : html`<nav class="crumbs" aria-label="breadcrumb">${opts.crumbs.map(([label, href], i) =>
          i === opts.crumbs!.length - 1 ? html`<span aria-current="page">${label}</span>` : html`<a href="${href}">${label}</a> ${loc.dir === 'rtl' ? '‹' : '›'} `
        )}</nav>`
  // The language menu: links to this page in each language (?lang= outranks Accept-Language).
  const languages = html`<nav class="languages" aria-label="${t('layout.language')}">${LANGUAGES.map(l =>
    l === loc.lang ? html`<span lang="${l}" aria-current="true">${LANGUAGE_NAMES[l]}</span> ` : html`<a href="?lang=${l}" lang="${l}" hreflang="${l}">${LANGUAGE_NAMES[l]}</a> `
  )}</nav>`
  return html`<!doctype html>
<html lang="${loc.lang}" dir="${loc.dir}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${opts.title} · blockwatch</title>
<link rel="stylesheet" href="${STATIC_PREFIX}palette.css">
<link rel="stylesheet" href="${STATIC_PREFIX}dashboard.css">
${(opts.styles ?? []).map(s => html`<link rel="stylesheet" href="${STATIC_PREFIX + s}">\n`)}
</head>
<body>
<header class="top">
  <a class="brand" href="/" dir="ltr">blockwatch</a>
  <nav><a href="/">${t('layout.overview')}</a> <a href="/probes">${t('layout.operators')}</a> <a href="/docs">${t('layout.api')}</a></nav>
  ${languages}
</header>
<main>
${crumbs}
${opts.body}
</main>
<footer>${t('layout.footer')}</footer>
${(opts.scripts ?? []).map(s => html`<script src="${STATIC_PREFIX + s}"></script>\n`)}
</body>
</html>
`
}

/** The form of a page that a token unlocks: the token goes in the POST body, never in a URL. */
export function tokenForm(action: string, label: string, button: string, locale: Locale = ENGLISH): SafeHtml {
  return html`<form method="post" action="${action}" class="filters" autocomplete="off">
<label>${label} <input type="password" name="token" size="48" required dir="ltr"></label>
<button type="submit">${button}</button>
</form>
<p class="notice">${locale.t('probes.tokenNotice')}</p>`
}

/** Sends a page that shows what a token unlocked: never cached. */
export async function sendPrivatePage(reply: FastifyReply, title: string, body: SafeHtml, status = 200, locale: Locale = ENGLISH): Promise<FastifyReply> {
  reply.header('cache-control', 'no-store')
  return await sendPage(
    reply,
    page({
      title,
      body,
      crumbs: [
        [locale.t('layout.overview'), '/'],
        [title, '']
      ],
      locale
    }),
    status
  )
}

/** Sends a rendered page with the dashboard's headers. */
export async function sendPage(reply: FastifyReply, doc: SafeHtml, status = 200): Promise<FastifyReply> {
  return await reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', DASHBOARD_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    // The language follows ?lang= and Accept-Language: caches must tell them apart.
    .header('vary', 'Accept-Language')
    .send(doc.value)
}

/** A page that says what went wrong, in words (404s, bad parameters, limits), with the error's code when there is one, and its English message (`detail`) as the API gives it. */
export function errorPage(title: string, message: string, code?: string, locale: Locale = ENGLISH, detail?: string): SafeHtml {
  return page({
    title,
    locale,
    body: html`<h1>${title}</h1><p class="notice" id="error-text">${message}</p>${
      detail === undefined ? null : html`<p class="error-detail">${locale.t('errors.detail')}: <code lang="en" dir="ltr" id="error-message">${detail}</code></p>`
    }${code === undefined ? null : html`<p class="error-code">${locale.t('errors.code')}: <code id="error-code">${code}</code></p>`}<p><a href="/">${locale.t('layout.back')}</a></p>`
  })
}
