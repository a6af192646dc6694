// The page-side half of the browser driver: one function evaluated per call
// as (LIB)(op, arg). It keeps no state in the page and defines no globals.
//
// Snapshot rule: an element is recorded when it is interactive (a link with
// href, button, input other than hidden, select, textarea, option, summary,
// label, an element with a widget role, onclick, tabindex >= 0 or
// contenteditable), when it carries text of its own (a non-blank text node
// child), when it is an image with alt text or a canvas, or when it is a
// frame or a shadow host (so that frame paths can be matched by selectors). head, script,
// style, template and noscript are skipped. Same-origin iframes and open
// shadow roots are entered; their elements carry the frame path.
(function (op, arg) {
  "use strict";
  var SKIP = {head: 1, script: 1, style: 1, template: 1, noscript: 1, meta: 1, link: 1, title: 1};
  var INTERACTIVE = {a: 0, button: 1, input: 1, select: 1, textarea: 1, option: 1, summary: 1, label: 1};
  var WIDGET = {button: 1, link: 1, checkbox: 1, radio: 1, tab: 1, menuitem: 1, option: 1, switch: 1, textbox: 1,
    combobox: 1, listbox: 1, slider: 1, spinbutton: 1, searchbox: 1, menuitemcheckbox: 1, menuitemradio: 1, treeitem: 1};
  var ATTRS = {id: 1, "class": 1, name: 1, type: 1, href: 1, alt: 1, title: 1, placeholder: 1, value: 1, "aria-label": 1, role: 1};
  var NAME_FROM_CONTENT = {button: 1, link: 1, heading: 1, tab: 1, menuitem: 1, option: 1, cell: 1, columnheader: 1,
    rowheader: 1, checkbox: 1, radio: 1, switch: 1, treeitem: 1, tooltip: 1};
  var MAXTEXT = 300;

  function collapse(s, max) {
    if (!s) return "";
    s = s.replace(/\s+/g, " ").trim();
    return s.length > (max || MAXTEXT) ? s.slice(0, max || MAXTEXT) : s;
  }

  function implicitRole(el, tag) {
    var r = el.getAttribute("role");
    if (r) return r.trim().split(/\s+/)[0].toLowerCase();
    switch (tag) {
      case "a": case "area": return el.hasAttribute("href") ? "link" : "";
      case "button": case "summary": return "button";
      case "input":
        var t = (el.getAttribute("type") || "text").toLowerCase();
        switch (t) {
          case "checkbox": return "checkbox";
          case "radio": return "radio";
          case "range": return "slider";
          case "number": return "spinbutton";
          case "search": return el.hasAttribute("list") ? "combobox" : "searchbox";
          case "submit": case "button": case "reset": case "image": return "button";
          case "hidden": case "file": case "color": case "date": case "datetime-local": case "month": case "time": case "week": return "";
          default: return el.hasAttribute("list") ? "combobox" : "textbox";
        }
      case "select": return (el.multiple || el.size > 1) ? "listbox" : "combobox";
      case "textarea": return "textbox";
      case "img": return el.getAttribute("alt") === "" ? "presentation" : "img";
      case "h1": case "h2": case "h3": case "h4": case "h5": case "h6": return "heading";
      case "nav": return "navigation";
      case "main": return "main";
      case "header": return "banner";
      case "footer": return "contentinfo";
      case "aside": return "complementary";
      case "form": return "form";
      case "dialog": return "dialog";
      case "ul": case "ol": return "list";
      case "li": return "listitem";
      case "table": return "table";
      case "tr": return "row";
      case "td": return "cell";
      case "th": return "columnheader";
      case "option": return "option";
      case "progress": return "progressbar";
      case "hr": return "separator";
      case "p": return "paragraph";
    }
    return "";
  }

  function accName(el, tag, role) {
    var ids = el.getAttribute("aria-labelledby");
    if (ids) {
      var doc = el.getRootNode(), parts = [];
      ids.split(/\s+/).forEach(function (id) {
        var l = doc.getElementById ? doc.getElementById(id) : null;
        if (l) parts.push(l.textContent);
      });
      var n = collapse(parts.join(" "), 200);
      if (n) return n;
    }
    var al = el.getAttribute("aria-label");
    if (al && al.trim()) return collapse(al, 200);
    if (tag === "input" || tag === "select" || tag === "textarea") {
      var t = (el.getAttribute("type") || "").toLowerCase();
      if (t === "submit" || t === "button" || t === "reset") return collapse(el.value || (t === "submit" ? "Submit" : t === "reset" ? "Reset" : ""), 200);
      if (t === "image") return collapse(el.getAttribute("alt") || el.getAttribute("value") || "Submit", 200);
      if (el.labels && el.labels.length) return collapse(el.labels[0].textContent, 200);
      return collapse(el.getAttribute("title") || el.getAttribute("placeholder") || "", 200);
    }
    if (tag === "img" || tag === "area") return collapse(el.getAttribute("alt") || el.getAttribute("title") || "", 200);
    if (NAME_FROM_CONTENT[role] || tag === "label" || tag === "legend" || tag === "caption") {
      var c = collapse(el.textContent, 200);
      if (c) return c;
    }
    return collapse(el.getAttribute("title") || "", 200);
  }

  function ownText(el) {
    var s = "";
    for (var n = el.firstChild; n; n = n.nextSibling) {
      if (n.nodeType === 3) s += n.nodeValue;
    }
    return collapse(s, 80);
  }

  function interactive(el, tag) {
    if (tag in INTERACTIVE) {
      if (tag === "a") return el.hasAttribute("href");
      if (tag === "input") return (el.getAttribute("type") || "").toLowerCase() !== "hidden";
      return true;
    }
    var r = el.getAttribute("role");
    if (r && WIDGET[r.toLowerCase()]) return true;
    if (el.hasAttribute("onclick") || el.isContentEditable && el.getAttribute("contenteditable") !== null) return true;
    var ti = el.getAttribute("tabindex");
    return ti !== null && +ti >= 0;
  }

  function attrsOf(el) {
    var out = {}, list = el.attributes;
    for (var i = 0; i < list.length; i++) {
      var n = list[i].name;
      if (ATTRS[n] || n.lastIndexOf("data-", 0) === 0) out[n] = list[i].value.length > 200 ? list[i].value.slice(0, 200) : list[i].value;
    }
    return out;
  }

  function visible(el, r) {
    if (r.width <= 0 || r.height <= 0) return false;
    if (el.checkVisibility) return el.checkVisibility({opacityProperty: true, visibilityProperty: true});
    return true;
  }

  // record builds the element record; off is the frame's offset in the top
  // viewport.
  function record(el, tag, xp, idxp, frame, off, own) {
    var b = el.getBoundingClientRect();
    var rect = {x: b.left + off.x, y: b.top + off.y, width: b.width, height: b.height};
    var vis = visible(el, b);
    var role = implicitRole(el, tag);
    var rec = {
      index: 0, tag: tag, attrs: attrsOf(el), text: collapse(el.textContent),
      visible_text: "", role: role, name: accName(el, tag, role), xpath: xp, id_xpath: idxp,
      rect: rect, visible: vis, enabled: !(el.matches(":disabled") || el.getAttribute("aria-disabled") === "true"),
      neighbors: {}, frame: frame
    };
    if (vis) {
      // innerText is layout-aware; for large containers the own text is
      // close enough and far cheaper.
      rec.visible_text = el.childElementCount > 20 ? own : collapse(el.innerText);
    }
    return rec;
  }

  function include(el, tag, own) {
    return own !== "" || interactive(el, tag) || tag === "canvas" || tag === "iframe" || tag === "frame" ||
      !!el.shadowRoot || (tag === "img" && el.getAttribute("alt"));
  }

  function childrenOf(root) {
    return root.nodeType === 9 ? (root.documentElement ? [root.documentElement] : []) : root.children;
  }

  function snapshot() {
    var recs = [], els = [], owns = [];
    function walk(root, prefix, idPrefix, frame, off) {
      var kids = childrenOf(root), counts = {};
      for (var i = 0; i < kids.length; i++) {
        var el = kids[i], tag = el.localName;
        if (SKIP[tag]) continue;
        var k = counts[tag] = (counts[tag] || 0) + 1;
        var step = "/" + tag + "[" + k + "]";
        var xp = prefix + step;
        var idxp = el.id ? '//*[@id="' + el.id + '"]' : (idPrefix ? idPrefix + step : "");
        var own = ownText(el);
        if (include(el, tag, own)) {
          recs.push(record(el, tag, xp, idxp, frame, off, own));
          els.push(el);
          owns.push(own);
        }
        if (tag === "iframe" || tag === "frame") {
          var doc = null;
          try { doc = el.contentDocument; } catch (e) { doc = null; }
          if (doc) {
            var r = el.getBoundingClientRect();
            walk(doc, "", "", frame.concat([xp]), {x: off.x + r.left + el.clientLeft, y: off.y + r.top + el.clientTop});
          }
        }
        if (el.shadowRoot) walk(el.shadowRoot, "", "", frame.concat([xp]), off);
        if (el.firstElementChild) walk(el, xp, el.id ? '//*[@id="' + el.id + '"]' : idxp, frame, off);
      }
    }
    walk(document, "", "", [], {x: 0, y: 0});
    neighbours(recs, els, owns);
    for (var i = 0; i < recs.length; i++) recs[i].index = i;
    return {
      url: location.href, title: document.title,
      viewport: {width: innerWidth, height: innerHeight, scroll_x: scrollX, scroll_y: scrollY},
      elements: recs
    };
  }

  // neighbours fills each visible record's nearest visible text above,
  // below, left and right, within 400 px. Text carriers go into a 100 px
  // grid; each direction scans outward from the element's own cells and
  // stops as soon as the next band of cells is farther than the best hit,
  // so the cost stays near linear in the element count.
  function neighbours(recs, els, owns) {
    var CELL = 100, MAXD = 400, OFF = 1 << 14, grid = new Map(), n = 0;
    function key(cx, cy) { return (cy + OFF) * 32768 + (cx + OFF); }
    for (var i = 0; i < recs.length; i++) {
      var r = recs[i];
      if (!r.visible || !owns[i]) continue;
      var it = {i: i, l: r.rect.x, t: r.rect.y, r: r.rect.x + r.rect.width, b: r.rect.y + r.rect.height, stamp: -1};
      n++;
      var c0 = Math.floor(it.l / CELL), c1 = Math.min(Math.floor(it.r / CELL), c0 + 30);
      var r0 = Math.floor(it.t / CELL), r1 = Math.min(Math.floor(it.b / CELL), r0 + 30);
      for (var cy = r0; cy <= r1; cy++) for (var cx = c0; cx <= c1; cx++) {
        var k = key(cx, cy), cell = grid.get(k);
        if (!cell) grid.set(k, cell = []);
        cell.push(it);
      }
    }
    if (!n) return;
    var stamp = 0;
    for (var i = 0; i < recs.length; i++) {
      var rec = recs[i];
      if (!rec.visible) continue;
      var me = els[i];
      var L = rec.rect.x, T = rec.rect.y, R = L + rec.rect.width, B = T + rec.rect.height;
      var cl = Math.floor(L / CELL), cr = Math.floor(R / CELL), rt = Math.floor(T / CELL), rb = Math.floor(B / CELL);
      var nb = rec.neighbors;
      // dir: 0 above, 1 below, 2 left, 3 right
      for (var dir = 0; dir < 4; dir++) {
        stamp++;
        var best = null, bestD = MAXD;
        for (var step = 0; step <= MAXD / CELL + 1; step++) {
          // distance from the element's edge to the nearest edge of this band
          var band, lo, hi, gap;
          if (dir === 0) { band = rt - step; gap = T - (band + 1) * CELL; lo = cl; hi = cr; }
          else if (dir === 1) { band = rb + step; gap = band * CELL - B; lo = cl; hi = cr; }
          else if (dir === 2) { band = cl - step; gap = L - (band + 1) * CELL; lo = rt; hi = rb; }
          else { band = cr + step; gap = band * CELL - R; lo = rt; hi = rb; }
          if (gap > bestD) break;
          if (hi - lo > 30) hi = lo + 30;
          for (var x = lo; x <= hi; x++) {
            var cell = dir < 2 ? grid.get(key(x, band)) : grid.get(key(band, x));
            if (!cell) continue;
            for (var k = 0; k < cell.length; k++) {
              var it = cell[k];
              if (it.stamp === stamp || it.i === i) continue;
              it.stamp = stamp;
              var d;
              if (dir === 0) { if (!(it.l < R && it.r > L && it.b <= T + 2)) continue; d = T - it.b; }
              else if (dir === 1) { if (!(it.l < R && it.r > L && it.t >= B - 2)) continue; d = it.t - B; }
              else if (dir === 2) { if (!(it.t < B && it.b > T && it.r <= L + 2)) continue; d = L - it.r; }
              else { if (!(it.t < B && it.b > T && it.l >= R - 2)) continue; d = it.l - R; }
              if (d >= bestD) continue;
              var other = els[it.i];
              if (other.contains(me) || me.contains(other)) continue;
              best = it; bestD = d;
            }
          }
        }
        if (best) nb[dir === 0 ? "above" : dir === 1 ? "below" : dir === 2 ? "left" : "right"] = owns[best.i];
      }
    }
  }

  // --- the compact wire form of records ---------------------------------
  //
  // Records cross to Go as JSON inside a CDP string, so every byte is paid
  // for twice (escaped again) on a path that moves ~10 MB/s; pack shrinks a
  // list of records to about a third. session.go's recordReader reads it:
  //
  //   record = [tag, attrs, text, visible_text, role, name, xpath_keep,
  //             xpath_rest, id_xpath, x, y, width, height, flags, neighbors, frame]
  //
  // Every string field is a string the first time a value is sent and the
  // number of its first sending afterwards (strings are numbered in order
  // of appearance). attrs is 0 or [key, value, ...]; neighbors is 0 or
  // [above, below, left, right]; flags is 1 for visible plus 2 for enabled.
  // The XPath keeps the first xpath_keep steps of the previous record's and
  // appends xpath_rest (steps joined by "/", possibly empty). frame is the
  // number of an earlier frame path (0 is the top document) or, the first
  // time, the path as an array of strings. index is the position.
  function packer() {
    var strs = new Map(), nstr = 0, frames = new Map(), nframe = 1, prev = [];
    function S(s) {
      var k = strs.get(s);
      if (k !== undefined) return k;
      strs.set(s, nstr++);
      return s;
    }
    // Strings are numbered in the order session.go reads them: field
    // order, so each record is built front to back.
    return function (r) {
      var out = [S(r.tag)], attrs = 0;
      for (var k in r.attrs) {
        if (!attrs) attrs = [];
        attrs.push(S(k), S(r.attrs[k]));
      }
      var steps = r.xpath.slice(1).split("/"), keep = 0;
      while (keep < steps.length && keep < prev.length && steps[keep] === prev[keep]) keep++;
      prev = steps;
      out.push(attrs, S(r.text), S(r.visible_text), S(r.role), S(r.name), keep, S(steps.slice(keep).join("/")),
        S(r.id_xpath), r.rect.x, r.rect.y, r.rect.width, r.rect.height, (r.visible ? 1 : 0) | (r.enabled ? 2 : 0));
      var nb = r.neighbors, nbs = 0;
      if (nb.above || nb.below || nb.left || nb.right) nbs = [S(nb.above || ""), S(nb.below || ""), S(nb.left || ""), S(nb.right || "")];
      var fr = 0;
      if (r.frame.length) {
        fr = frames.get(r.frame);
        if (fr === undefined) {
          frames.set(r.frame, nframe++);
          fr = r.frame.map(function (f) { return S(f); });
        }
      }
      out.push(nbs, fr);
      return out;
    };
  }

  // pack replaces the records of a snapshot or query answer by their
  // compact form in "els", preceded by their count in "n".
  function pack(ans) {
    if (!ans.elements) return ans;
    var p = packer(), els = new Array(ans.elements.length);
    for (var i = 0; i < els.length; i++) els[i] = p(ans.elements[i]);
    delete ans.elements;
    ans.n = els.length; // before els, so that Go can size the list
    ans.els = els;
    return ans;
  }

  // --- locating elements for actions -------------------------------------

  var SIMPLE = /^(\/[A-Za-z][\w-]*\[\d+\])+$/;

  function findIn(root, kind, expr) {
    if (kind === "css") return Array.prototype.slice.call(root.querySelectorAll(expr));
    if (SIMPLE.test(expr)) {
      // Absolute paths as snapshots write them; walked by hand so that they
      // also work inside shadow roots, where XPath cannot reach.
      var node = root, steps = expr.slice(1).split("/");
      for (var s = 0; s < steps.length; s++) {
        var m = /^([\w-]+)\[(\d+)\]$/.exec(steps[s]), tag = m[1].toLowerCase(), want = +m[2], n = 0, next = null;
        var kids = childrenOf(node);
        for (var i = 0; i < kids.length; i++) {
          if (kids[i].localName === tag && ++n === want) { next = kids[i]; break; }
        }
        if (!next) return [];
        node = next;
      }
      return [node];
    }
    var doc = root.nodeType === 9 ? root : root.ownerDocument;
    var res = doc.evaluate(expr, root, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null), out = [];
    for (var i = 0; i < res.snapshotLength; i++) if (res.snapshotItem(i).nodeType === 1) out.push(res.snapshotItem(i));
    return out;
  }

  // resolve walks the frame path (iframes and shadow hosts) and returns the
  // matches of the last segment, with the frame offset.
  function resolve(a) {
    var root = document, off = {x: 0, y: 0}, segs = a.path, frame = [];
    a.frame = frame;
    for (var s = 0; s < segs.length; s++) {
      // A selector the browser cannot parse is the caller's mistake, not
      // a missing element: report it as such.
      try {
        if (a.kind === "css") document.createDocumentFragment().querySelectorAll(segs[s]);
        else document.createExpression(segs[s]);
      }
      catch (e) { return {error: "invalid selector " + JSON.stringify(segs[s]) + ": " + e.message, invalid: true, els: []}; }
    }
    for (var s = 0; s < segs.length - 1; s++) {
      var host = findIn(root, a.kind, segs[s])[0];
      if (!host) return {error: "frame " + JSON.stringify(segs[s]) + " not found", els: []};
      var tag = host.localName;
      frame.push(xpathOf(host));
      if (tag === "iframe" || tag === "frame") {
        var doc = null;
        try { doc = host.contentDocument; } catch (e) { doc = null; }
        if (!doc) return {error: "frame " + JSON.stringify(segs[s]) + " is not same-origin", els: []};
        var r = host.getBoundingClientRect();
        off = {x: off.x + r.left + host.clientLeft, y: off.y + r.top + host.clientTop};
        root = doc;
      } else if (host.shadowRoot) {
        root = host.shadowRoot;
      } else {
        return {error: JSON.stringify(segs[s]) + " is neither an iframe nor an open shadow host", els: []};
      }
    }
    return {els: findIn(root, a.kind, segs[segs.length - 1]), off: off};
  }

  function describe(el) {
    if (!el) return "nothing";
    var s = "<" + el.localName;
    if (el.id) s += " #" + el.id;
    if (typeof el.className === "string" && el.className.trim()) s += "." + el.className.trim().split(/\s+/).join(".");
    return s + ">";
  }

  // frameOffset is the offset of el's document in the top viewport.
  function frameOffset(el) {
    var x = 0, y = 0, win = el.ownerDocument.defaultView;
    while (win && win.frameElement) {
      var fe = win.frameElement, r = fe.getBoundingClientRect();
      x += r.left + fe.clientLeft; y += r.top + fe.clientTop;
      win = win.parent;
    }
    return {x: x, y: y};
  }

  function hitAt(x, y) {
    var doc = document, h = doc.elementFromPoint(x, y);
    for (var guard = 0; h && guard < 32; guard++) {
      if (h.shadowRoot) {
        var inner = h.shadowRoot.elementFromPoint(x, y);
        if (inner && inner !== h) { h = inner; continue; }
      }
      if ((h.localName === "iframe" || h.localName === "frame")) {
        var d = null;
        try { d = h.contentDocument; } catch (e) { d = null; }
        if (!d) return h;
        var r = h.getBoundingClientRect();
        x -= r.left + h.clientLeft; y -= r.top + h.clientTop;
        var next = d.elementFromPoint(x, y);
        if (!next) return h;
        h = next;
        continue;
      }
      return h;
    }
    return h;
  }

  function composedContains(a, b) {
    for (var n = b; n; n = n.parentNode || n.host) if (n === a) return true;
    return false;
  }

  function pick(a) {
    var r = resolve(a);
    if (r.error) return {error: r.error, count: 0};
    var els = r.els, el = null;
    for (var i = 0; i < els.length && !el; i++) {
      var b = els[i].getBoundingClientRect();
      if (visible(els[i], b)) el = els[i];
    }
    return {el: el || els[0] || null, count: els.length, anyVisible: !!el};
  }

  function locate(a) {
    var p = pick(a);
    if (!p.el) return {count: p.count, error: p.error || ""};
    var el = p.el;
    var b = el.getBoundingClientRect(), vw = innerWidth, vh = innerHeight, off = frameOffset(el);
    var cx = off.x + b.left + b.width / 2, cy = off.y + b.top + b.height / 2;
    if (a.scroll && (cx < 0 || cy < 0 || cx > vw || cy > vh || b.width === 0)) {
      el.scrollIntoView({block: "center", inline: "center", behavior: "instant"});
      b = el.getBoundingClientRect(); off = frameOffset(el);
      cx = off.x + b.left + b.width / 2; cy = off.y + b.top + b.height / 2;
    }
    var out = {count: p.count, x: cx, y: cy, width: b.width, height: b.height, visible: p.anyVisible, desc: describe(el)};
    if (a.focus) el.focus();
    if (a.hittest && p.anyVisible) {
      var h = hitAt(cx, cy);
      if (h && h !== el && !composedContains(el, h)) out.intercepted = describe(h);
    }
    if (a.select !== undefined) {
      if (el.localName !== "select") return {count: p.count, error: describe(el) + " is not a <select>"};
      var opt = null;
      for (var i = 0; i < el.options.length && !opt; i++) if (el.options[i].value === a.select) opt = el.options[i];
      for (var i = 0; i < el.options.length && !opt; i++) if (collapse(el.options[i].textContent) === collapse(a.select)) opt = el.options[i];
      if (!opt) return {count: p.count, error: "no option " + JSON.stringify(a.select) + " in " + describe(el)};
      el.value = opt.value;
      el.dispatchEvent(new Event("input", {bubbles: true}));
      el.dispatchEvent(new Event("change", {bubbles: true}));
      out.selected = opt.value;
    }
    return out;
  }

  function xpathOf(el) {
    var parts = [];
    for (var n = el; n && n.nodeType === 1; n = n.parentNode) {
      var k = 1;
      for (var s = n.previousElementSibling; s; s = s.previousElementSibling) if (s.localName === n.localName) k++;
      parts.unshift(n.localName + "[" + k + "]");
    }
    return "/" + parts.join("/");
  }

  function query(a) {
    var r = resolve(a);
    if (r.error) return {error: r.error};
    var out = [], lim = a.limit || 100;
    for (var i = 0; i < r.els.length && out.length < lim; i++) {
      var el = r.els[i], tag = el.localName, rec = record(el, tag, xpathOf(el), el.id ? '//*[@id="' + el.id + '"]' : "", a.frame, frameOffset(el), ownText(el));
      rec.index = i;
      out.push(rec);
    }
    return {elements: out};
  }

  function exists(a) {
    var r = resolve(a);
    if (r.invalid) return {count: 0, visible: false, error: r.error};
    if (r.error) return {count: 0, visible: false};
    var vis = false;
    for (var i = 0; i < r.els.length && !vis; i++) vis = visible(r.els[i], r.els[i].getBoundingClientRect());
    return {count: r.els.length, visible: vis};
  }

  switch (op) {
    case "snapshot": return pack(snapshot());
    case "locate": return locate(arg);
    case "query": return pack(query(arg));
    // The records as plain objects: the reference the compact form is
    // tested against.
    case "snapshot-objects": return snapshot();
    case "query-objects": return query(arg);
    case "exists": return exists(arg);
    case "pageinfo": return {url: location.href, title: document.title, ready_state: document.readyState};
    case "html": return {url: location.href, html: document.documentElement ? document.documentElement.outerHTML : ""};
    case "online": return {online: navigator.onLine};
  }
  throw new Error("unknown op " + op);
})
