// Layout measurements written into the page as JSON (read back from chromium --dump-dom).
(function () {
  var ctx = document.createElement("canvas").getContext("2d");
  // A word's natural width, unbroken: the browser may break it at a hyphen when its column is
  // too narrow, which is exactly what must not happen to an id or an instant.
  function natural(word, element) {
    var cs = getComputedStyle(element);
    ctx.font = cs.fontStyle + " " + cs.fontWeight + " " + cs.fontSize + " " + cs.fontFamily;
    return ctx.measureText(word).width;
  }
  function words(cell) {
    var found = [];
    var walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    var node;
    while ((node = walker.nextNode())) {
      // A word is what a browser keeps on one line: text between spaces, split after hyphens
      // (the line-break opportunity every browser takes, as GitHub's pages do too).
      var re = /[^\s-]+-*|-+/g, m;
      while ((m = re.exec(node.data))) {
        found.push({word: m[0], width: natural(m[0], node.parentElement)});
      }
    }
    return found;
  }
  var root = document.documentElement;
  var out = {page_overflow: root.scrollWidth > root.clientWidth + 1,
             page_scroll_width: root.scrollWidth, tables: [], overflowing: [],
             resources: performance.getEntriesByType("resource").map(function (e) { return e.name; })};
  var tables = document.querySelectorAll("table");
  for (var i = 0; i < tables.length; i++) {
    var t = tables[i];
    // GitHub's CSS makes a table a scrolling block: overflow shows as scrollWidth > clientWidth.
    var box = t.parentElement.getBoundingClientRect();
    var own = t.getBoundingClientRect();
    var narrow = [];
    var cells = t.querySelectorAll("td, th");
    for (var c = 0; c < cells.length; c++) {
      var cs = getComputedStyle(cells[c]);
      var inner = cells[c].clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
      var ws = words(cells[c]);
      for (var w = 0; w < ws.length; w++) {
        if (ws[w].width > inner + 1) {
          narrow.push({word: ws[w].word, width: ws[w].width, inner: inner});
        }
      }
    }
    out.tables.push({index: i, head: (t.rows[0] ? t.rows[0].innerText : "").slice(0, 60),
                     overflow: t.scrollWidth > t.clientWidth + 1 || own.right > box.right + 1,
                     scroll_width: t.scrollWidth, client_width: t.clientWidth,
                     narrow: narrow.slice(0, 5)});
  }
  var all = document.body.querySelectorAll("*");
  for (var k = 0; k < all.length; k++) {
    var r = all[k].getBoundingClientRect();
    if (r.right > root.clientWidth + 1 && out.overflowing.length < 10) {
      out.overflowing.push({tag: all[k].tagName, right: r.right,
                            text: (all[k].textContent || "").slice(0, 40)});
    }
  }
  var pre = document.createElement("pre");
  pre.id = "govgate-measure";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
