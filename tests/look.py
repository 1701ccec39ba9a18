"""Measurements of how a page looks in a real browser, for the "designed for 3 m" tests.

Plain functions over a Playwright ``Page`` (sync API). Each returns data (never a bool), so a
test can assert on it and print exactly what is wrong: which element scrolls, which text is
too small and how small, which axe-core rule fails where. "Visible" means what a visitor can
see: rendered (not ``display: none``, not ``visibility: hidden``, not fully transparent), with
an area, and not clipped away by an ancestor that hides its overflow (the ``visually-hidden``
pattern) nor placed off the page. The measurements run in the page, in one ``evaluate`` each.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page

SERIOUS = ("serious", "critical")

# Shared by the scripts below: a short readable name for an element, and the part of a
# rectangle that the clipping of ``from`` and its ancestors (overflow other than visible,
# clip, clip-path) and the page's own origin leave visible. Outside that, nothing is seen.
_JS_HELPERS = r"""
const describe = (el) => {
  const part = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
    [...e.classList].slice(0, 3).map(c => '.' + c).join('');
  const named = el.closest('[id]');
  return (named && named !== el ? part(named) + ' ' : '') + part(el);
};
const visibleRect = (from, rect) => {
  let [l, t, r, b] = [rect.left, rect.top, rect.right, rect.bottom];
  for (let a = from; a && a !== document.documentElement; a = a.parentElement) {
    const s = getComputedStyle(a);
    const clips = s.overflowX !== 'visible' || s.overflowY !== 'visible' ||
      (s.clip && s.clip !== 'auto') || (s.clipPath && s.clipPath !== 'none');
    if (!clips) continue;
    const c = a.getBoundingClientRect();
    l = Math.max(l, c.left); t = Math.max(t, c.top);
    r = Math.min(r, c.right); b = Math.min(b, c.bottom);
  }
  // off the page: left of or above the document's origin (the "left: -9999px" pattern)
  if (r + scrollX <= 0 || b + scrollY <= 0) return null;
  return r - l > 1 && b - t > 1 ? {left: l, top: t, right: r, bottom: b} : null;
};
const shown = (el) => el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
// The visible texts under the elements matching a selector: words, the size they are drawn
// at (SVG text as scaled on screen), their element, and whether that is a heading.
function* visibleTexts(selector) {
  for (const root of document.querySelectorAll(selector)) {
    const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walk.nextNode(); node; node = walk.nextNode()) {
      const words = node.textContent.replace(/\s+/g, ' ').trim();
      const el = node.parentElement;
      if (!words || !el || !shown(el) || el.closest('script, style, noscript, title')) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      let rects = [...range.getClientRects()];
      if (!rects.length && el instanceof SVGElement) rects = [el.getBoundingClientRect()];
      if (!rects.some(r => r.width > 0 && r.height > 0 && visibleRect(el, r))) continue;
      let px = parseFloat(getComputedStyle(el).fontSize);
      const m = el instanceof SVGElement && el.getScreenCTM();
      if (m) px *= Math.sqrt(Math.abs(m.a * m.d - m.b * m.c));
      yield {words, px: Math.round(px * 10) / 10, element: describe(el),
             heading: !!el.closest('h1, h2, h3, h4, h5, h6, [role=heading]')};
    }
  }
}
"""


def _run(page: Page, body: str, arg: Any = None) -> Any:
    return page.evaluate(f"(arg) => {{ {_JS_HELPERS} {body} }}", arg)


def settle(page: Page) -> None:
    """Wait until the page has stopped changing: no Dash callback in flight, every image
    decoded, web fonts loaded, every animation that ends has ended (a text fading in is
    measured as it ends up, not half-transparent), and two frames painted (so the layout
    measured is the one shown)."""
    page.wait_for_function("""() => !document.querySelector('[data-dash-is-loading="true"]')
        && [...document.images].every(i => i.complete)""")
    page.evaluate("""async () => {
        await document.fonts.ready;
        await Promise.all(document.getAnimations()
            .filter(a => a.effect && a.effect.getComputedTiming().endTime !== Infinity)
            .map(a => a.finished.catch(() => null)));
        await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
    }""")


def page_scroll(page: Page) -> dict[str, int]:
    """How many pixels the page scrolls, down (``y``) and across (``x``); 0 and 0: it fits."""
    return _run(page, """
      const s = document.scrollingElement;
      return {x: Math.max(0, s.scrollWidth - innerWidth),
              y: Math.max(0, s.scrollHeight - innerHeight)};""")


def scroll_boxes(page: Page) -> list[dict[str, Any]]:
    """Visible elements (other than the page itself) that can scroll and whose content
    overflows them: each with its name and its content and box sizes."""
    return _run(page, """
      const found = [];
      for (const el of document.querySelectorAll('body, body *')) {
        if (el === document.scrollingElement || !shown(el)) continue;
        const s = getComputedStyle(el);
        const scrolls = (v) => ['auto', 'scroll', 'overlay'].includes(v);
        const down = scrolls(s.overflowY) && el.scrollHeight > el.clientHeight + 1;
        const across = scrolls(s.overflowX) && el.scrollWidth > el.clientWidth + 1;
        if (down || across) found.push({element: describe(el),
          content: [el.scrollWidth, el.scrollHeight], box: [el.clientWidth, el.clientHeight]});
      }
      return found;""")


def small_text(page: Page, min_px: float, within: str = "body") -> list[dict[str, Any]]:
    """Every visible text inside ``within`` drawn smaller than ``min_px``: its words, its size
    in CSS pixels (SVG text as scaled on screen, e.g. a chart's axis labels) and its element.
    Each (text, size, element) once."""
    return _run(page, """
      const [selector, minPx] = arg;
      const found = new Map();
      for (const t of visibleTexts(selector)) {
        if (t.px < minPx) found.set(`${t.words}|${t.px}|${t.element}`,
                                    {text: t.words.slice(0, 60), px: t.px, element: t.element});
      }
      return [...found.values()];""", [within, min_px])


def small_targets(page: Page, min_px: float) -> list[dict[str, Any]]:
    """Every visible thing a finger can press (buttons, links, form fields, tabs, the labels
    that are buttons) smaller than ``min_px`` either way; inputs drawn invisible behind
    their labels are the labels' business."""
    return _run(page, """
      const found = [];
      const tappable = 'button, a[href], input, select, textarea, label.btn, [role=tab]';
      for (const el of document.querySelectorAll(tappable)) {
        if (!shown(el)) continue;
        const r = el.getBoundingClientRect();
        if (r.width < arg || r.height < arg)
          found.push({element: describe(el), size: [Math.round(r.width), Math.round(r.height)]});
      }
      return found;""", min_px)


def body_text_px(page: Page) -> float:
    """The size of the page's running text: at least half the visible characters outside
    headings are drawn this large or larger (CSS pixels). Measured on the text itself, not on
    ``<body>``: a page may size its text on its containers (the wall does)."""
    return _run(page, """
      const texts = [...visibleTexts('body')].filter(t => !t.heading)
        .sort((a, b) => a.px - b.px);
      const total = texts.reduce((n, t) => n + t.words.length, 0);
      let seen = 0;
      for (const t of texts) {
        seen += t.words.length;
        if (seen * 2 >= total) return t.px;
      }
      return parseFloat(getComputedStyle(document.body).fontSize);""")


@cache
def _axe() -> Axe:
    return Axe()  # reads axe-core's script once


def axe_serious(page: Page) -> list[tuple[str, str, list[str]]]:
    """axe-core's serious and critical violations on the page as it is now: (rule id, what it
    asks for, the CSS targets of the offending elements)."""
    violations = _axe().run(page).response["violations"]
    return [(v["id"], v["help"], [" ".join(map(str, n["target"])) for n in v["nodes"]])
            for v in violations if v.get("impact") in SERIOUS]


def box(page: Page, selector: str) -> dict[str, float] | None:
    """The first match's bounding box in CSS pixels (x, y, width, height), None if absent or
    not rendered."""
    return page.locator(selector).first.bounding_box() if page.locator(selector).count() \
        else None


def boxes(page: Page, selector: str) -> list[dict[str, Any]]:
    """Every match's visible text and rendered width and height, in CSS pixels."""
    return _run(page, """
      return [...document.querySelectorAll(arg)].map(e => {
        const r = e.getBoundingClientRect();
        return {element: describe(e), text: (e.innerText || e.alt || '').trim().slice(0, 60),
                width: Math.round(r.width), height: Math.round(r.height)};
      });""", selector)


def unseen(page: Page, selector: str) -> list[dict[str, Any]]:
    """The matches a visitor cannot see without scrolling: not rendered, not wholly inside the
    viewport, clipped by an ancestor, or covered at their centre by something else. Each with
    its text and box."""
    return _run(page, """
      const missing = [];
      for (const el of document.querySelectorAll(arg)) {
        const r = el.getBoundingClientRect();
        const why = [];
        if (!shown(el) || r.width < 1 || r.height < 1) why.push('not rendered');
        else {
          if (r.left < 0 || r.top < 0 || r.right > innerWidth || r.bottom > innerHeight)
            why.push('outside the viewport');
          const v = visibleRect(el.parentElement, r);
          if (!v || v.right - v.left < r.width - 1 || v.bottom - v.top < r.height - 1)
            why.push('clipped');
          const hit = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
          if (hit && !el.contains(hit) && hit !== el.control && !hit.contains(el))
            why.push('covered by ' + describe(hit));
        }
        if (why.length) missing.push({text: (el.innerText || '').trim().slice(0, 60),
          why: why.join(', '), box: [r.left, r.top, r.width, r.height].map(Math.round)});
      }
      return missing;""", selector)


def time_to_show(page: Page, target: Locator, shown_selectors: list[str]) -> float:
    """Milliseconds, in the page's own clock, from a click on ``target`` (the click event's
    time stamp, when the input arrived) until every one of ``shown_selectors`` is rendered
    with an area and some text or a loaded image (``performance.now()``, checked on every
    frame)."""
    page.evaluate("""(wanted) => {
      const look = window.__look = {};
      document.addEventListener('click', (e) => {
        if (look.click === undefined) look.click = e.timeStamp;
      }, true);
      const ready = (sel) => {
        const el = document.querySelector(sel);
        if (!el || !el.checkVisibility({checkVisibilityCSS: true})) return false;
        const r = el.getBoundingClientRect();
        const imgs = el.tagName === 'IMG' ? [el] : [...el.querySelectorAll('img')];
        return r.width > 0 && r.height > 0 &&
          (el.textContent.trim() !== '' || (imgs.length && imgs.every(i => i.complete)));
      };
      const frame = () => {
        if (look.click !== undefined && wanted.shown.every(ready)) look.shown = performance.now();
        else requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
    }""", {"shown": shown_selectors})
    target.click()
    page.wait_for_function("() => window.__look.shown !== undefined")
    return page.evaluate("() => Math.round(window.__look.shown - window.__look.click)")


TEXT_MIN_PX = 20  # at 1920×1080: nothing a visitor reads from 3 m is smaller


def problems(page: Page, large: bool) -> list[str]:
    """Everything the 3 m checks find wrong with the page on screen (text sizes only on the
    large screen, where the issue sets them), ready to assert ``== []`` on."""
    settle(page)
    found = []
    if (scroll := page_scroll(page)) != {"x": 0, "y": 0}:
        found.append(f"page scrolls {scroll}")
    found += [f"scroll box {b}" for b in scroll_boxes(page)]
    found += [f"axe {a}" for a in axe_serious(page)]
    if large:
        found += [f"small text {t}" for t in small_text(page, TEXT_MIN_PX)]
    return found
