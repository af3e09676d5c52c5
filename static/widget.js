/* Knowledge Sidecar sidebar: the actions on the server-rendered panel (templates/widget_panel.html).
 *
 * - The agent session comes from <script type="application/json" id="ks-boot"> and is sent as
 *   "Authorization: Bearer <session>" on every call; it never appears in a URL.
 * - Text from the server is put into the page only through textContent / text nodes (and <mark>
 *   elements for matched words), never through innerHTML.
 * - Inside Zendesk the ZAF client (window.ZAFClient from static/vendor/zaf_sdk.min.js; it talks to
 *   Zendesk by postMessage) gives the ticket id, the requester's and the agent's names, and takes
 *   inserted macro text; the demo page provides a stand-in client (static/demo_zaf.js).
 */
(function () {
  "use strict";

  var boot = JSON.parse(document.getElementById("ks-boot").textContent);
  var zaf = null;
  try {
    zaf = (window.ZAFClient && window.ZAFClient.init()) || null;
  } catch (e) {
    zaf = null;
  }

  function panel() { return document.getElementById("ks-panel"); }

  /* One call to the ZAF client, as a promise that rejects on every failure. SDK 2.0 rejects only errors
     that carry a name: a timeout (5 s without an answer) and an unnamed error reply come back as a
     *resolved* value ({name: "TimeoutError"} or the error object), so those are turned into errors here. */
  function zafCall(what, fn) {
    return new Promise(function (resolve) { resolve(fn()); }).then(function (value) {
      if (value && value.name === "TimeoutError") { throw new Error("Zendesk did not answer (" + what + ")"); }
      if (value === null || typeof value !== "object" || typeof value.msg === "string" ||
          (typeof value.message === "string" && !value.errors)) {
        throw new Error("Zendesk refused " + what + ((value && (value.msg || value.message)) ?
          ": " + (value.msg || value.message) : ""));
      }
      return value;
    });
  }

  function ticketPath() {
    var p = panel();
    return "/api/tickets/" + encodeURIComponent(p.dataset.integration) + "/" +
      encodeURIComponent(p.dataset.ticket);
  }

  var EXPIRED = "Your session has expired. Reload the ticket to continue.";

  function call(method, path, body, accept) {
    var init = { method: method, headers: { "Authorization": "Bearer " + boot.session,
                                            "Accept": accept || "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (resp) {
      var read = (accept === "text/html") ? resp.text() : resp.json().catch(function () { return {}; });
      return read.then(function (data) {
        if (resp.status === 401) {
          showError(EXPIRED);
          var expired = new Error(EXPIRED);
          expired.status = 401;
          throw expired;
        }
        if (!resp.ok) {
          var err = new Error((data && data.message) || ("the server answered " + resp.status));
          err.status = resp.status;
          throw err;
        }
        return data;
      });
    }, function () {
      throw new Error("the sidecar server cannot be reached");
    });
  }

  function record(event) { return call("POST", ticketPath() + "/events", event); }

  function note(el, text, kind) {
    if (!el) { return; }
    el.textContent = text;
    el.hidden = !text;
    el.className = el.className.replace(/\s*is-(ok|error)/g, "") + (kind ? " is-" + kind : "");
    resize();
  }

  /* The line shown when a call fails: an expired session gets the same plain sentence everywhere. */
  function failed(what, err) { return err.status === 401 ? EXPIRED : what + ": " + err.message; }

  function showError(text) { note(panel() && panel().querySelector(".ks-status"), text, "error"); }

  function resize() {
    if (zaf && zaf.invoke) {
      zafCall("resize", function () {
        return zaf.invoke("resize", { width: "100%", height: Math.min(document.body.scrollHeight + 8, 2000) + "px" });
      }).catch(function () { /* not every client resizes */ });
    }
  }

  /* Matched words wrapped in <mark>, everything else as text nodes. */
  function highlighted(text, words) {
    var frag = document.createDocumentFragment();
    text = text || "";
    var list = (words || []).filter(function (w) { return typeof w === "string" && w.trim(); })
      .sort(function (a, b) { return b.length - a.length; })
      .map(function (w) { return w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); });
    if (!list.length) { frag.append(text); return frag; }
    var re = new RegExp("(?<![\\p{L}\\p{N}_])(" + list.join("|") + ")(?![\\p{L}\\p{N}_])", "giu");
    var last = 0, m;
    while ((m = re.exec(text)) !== null) {
      frag.append(text.slice(last, m.index));
      var mark = document.createElement("mark");
      mark.textContent = m[0];
      frag.append(mark);
      last = m.index + m[0].length;
    }
    frag.append(text.slice(last));
    return frag;
  }

  var STATE_LABELS = { validated: "Validated", not_validated: "Not validated", wip: "Work in progress" };
  var SOURCE_LABELS = { rule: "mapped by rule", inferred: "inferred from text", none: "not mapped" };
  var REUSED_LABEL = "Reused ✓";

  /* Article ids already reused on this ticket (the server lists them in data-reused; reuses here add to it). */
  function reusedIds() {
    var p = panel();
    try {
      var ids = JSON.parse((p && p.dataset.reused) || "[]");
      return Array.isArray(ids) ? ids.map(String) : [];
    } catch (e) { return []; }
  }

  function markReused(id) {
    var ids = reusedIds();
    if (ids.indexOf(String(id)) < 0) { ids.push(String(id)); }
    panel().dataset.reused = JSON.stringify(ids.map(Number));
    panel().querySelectorAll('.ks-article[data-article-id="' + String(id) + '"] [data-action="reuse"]')
      .forEach(function (b) { b.disabled = true; b.textContent = REUSED_LABEL; });
  }

  function articleCard(a) {
    var tpl = document.getElementById("ks-article-template");
    var li = tpl.content.firstElementChild.cloneNode(true);
    li.dataset.articleId = String(a.id);
    li.querySelector(".ks-title").textContent = a.title;
    var state = li.querySelector(".ks-state");
    state.textContent = STATE_LABELS[a.state] || a.state || "";
    state.classList.add("state-" + (a.state || "unknown"));
    var fb = li.querySelector(".ks-fallback");
    fb.textContent = String(a.language || "").toUpperCase() + " fallback";
    fb.hidden = !a.fallback;
    var sure = li.querySelector(".ks-confidence-badge");
    if (sure) {
      sure.hidden = typeof a.confidence !== "number";
      sure.textContent = Math.round((Number(a.confidence) || 0) * 100) + "% match";
    }
    li.querySelector(".ks-snippet").replaceChildren(highlighted(a.snippet, a.matched));
    if (reusedIds().indexOf(String(a.id)) >= 0) {
      var button = li.querySelector('[data-action="reuse"]');
      button.disabled = true;
      button.textContent = REUSED_LABEL;
    }
    return li;
  }

  function fillSteps(details) {
    var li = details.closest(".ks-article");
    details.dataset.lazy = "";
    call("GET", "/api/articles/" + encodeURIComponent(li.dataset.articleId)).then(function (art) {
      ["issue", "environment", "resolution", "cause"].forEach(function (key) {
        var value = key === "resolution" ? (art.resolution || art.body) : art[key];
        details.querySelectorAll('[data-field="' + key + '"]').forEach(function (el) {
          if (el.tagName === "DD") { el.textContent = value || ""; }
          el.hidden = !value;
        });
      });
      resize();
    }, function (err) { note(li.querySelector(".ks-note"), failed("Could not load the steps", err), "error"); });
  }

  function reuse(li, button) {
    button.disabled = true;
    macroInput().then(function (input) {
      var event = { kind: "reused", article_id: Number(li.dataset.articleId) };
      if (input.agent_name) { event.agent_name = input.agent_name; }   // shown in the link note in Zendesk
      return record(event);
    }).then(function () {
      note(li.querySelector(".ks-note"), "Reuse recorded: this article is linked to the ticket.", "ok");
      markReused(li.dataset.articleId);
    }, function (err) {
      button.disabled = false;
      note(li.querySelector(".ks-note"), failed("Reuse not recorded", err), "error");
    });
  }

  function flag(li, form) {
    var reason = form.elements.reason.value.trim();
    if (!reason) { note(li.querySelector(".ks-note"), "Say what is wrong or outdated.", "error"); return; }
    var submit = form.querySelector('[type="submit"]');
    submit.disabled = true;
    var category = form.elements.category ? form.elements.category.value : undefined;
    record({ kind: "flagged", article_id: Number(li.dataset.articleId), reason: reason, category: category })
      .then(function (ev) {
      form.hidden = true;
      form.reset();
      note(li.querySelector(".ks-note"), flagOutcome(ev.flag || {}), "ok");
    }, function (err) {
      note(li.querySelector(".ks-note"), failed("Flag not sent", err), "error");
    }).then(function () { submit.disabled = false; });
  }

  /* Only what happened: to whom the flag went and how they were told (the server says). */
  function flagOutcome(f) {
    if (!f.owner) {
      return "Flag recorded. This article has no owner yet: publishers see it in the flags queue.";
    }
    if (!f.told) { return "Flag recorded on your own article: it is in your flags queue."; }
    var how = f.delivery === "email_queued" ? " and by e-mail" :
      (f.delivery === "webhook_queued" ? " and through your team's notification hook" : "");
    return "Flag sent to " + (f.owner_name || f.owner) + ": they see it in their flags queue" + how +
      ". You will be told when it is fixed or rejected.";
  }

  /* An article's read view in place of the panel's lists (GET /widget/articles/<id>, server-rendered and
     autoescaped); Back returns to the suggestions. */
  function openArticle(li, button) {
    var holder = panel().querySelector(".ks-article-holder");
    var url = "/widget/articles/" + encodeURIComponent(li.dataset.articleId);
    if (button.dataset.from && button.dataset.to) {
      url += "?from=" + encodeURIComponent(button.dataset.from) + "&to=" + encodeURIComponent(button.dataset.to);
    }
    return call("GET", url, undefined, "text/html").then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var view = doc.querySelector(".ks-article-view");
      holder.replaceChildren(document.importNode(view, true));
      holder.hidden = false;
      panel().classList.add("is-reading");
      var changed = li.querySelector(".ks-changed");
      if (changed) { changed.remove(); }
      resize();
    }, function (err) { note(li.querySelector(".ks-note"), failed("Article not opened", err), "error"); });
  }

  function closeArticle() {
    var holder = panel().querySelector(".ks-article-holder");
    holder.hidden = true;
    holder.replaceChildren();
    panel().classList.remove("is-reading");
    resize();
  }

  /* The macro's text for this ticket: the server renders it when it can (POST /api/macros/<id>/render);
     without that endpoint the stored body is used as it is. Inside Zendesk the ZAF client names the
     requester and the agent (currentUser), so "Hi {{ requester.first_name }}" and the signature read well. */
  function macroInput() {
    var p = panel();
    var input = { ticket: { id: p.dataset.ticket, subject: p.dataset.subject || "" } };
    if (!zaf || !zaf.get) { return Promise.resolve(input); }
    return zafCall("the ticket's details", function () {
      return zaf.get(["ticket.subject", "ticket.requester.name", "currentUser.name"]);
    }).then(function (data) {
      input.ticket.subject = data["ticket.subject"] || input.ticket.subject;
      if (data["ticket.requester.name"]) { input.ticket.requester = { name: data["ticket.requester.name"] }; }
      if (data["currentUser.name"]) { input.agent_name = data["currentUser.name"]; }
      return input;
    }, function () { return input; });
  }

  function macroText(li) {
    return macroInput().then(function (input) {
      return call("POST", "/api/macros/" + encodeURIComponent(li.dataset.macroId) + "/render", input);
    }).then(
      function (out) {
        var text = typeof out.text === "string" ? out.text : (out.rendered || out.body);
        return typeof text === "string" ? text : li.dataset.body;
      },
      function (err) {
        if (err.status === 404 || err.status === 405) { return li.dataset.body; }
        throw err;
      });
  }

  function insertMacro(li, button) {
    var out = li.querySelector(".ks-note");
    button.disabled = true;
    macroText(li).then(function (text) {
      if (!zaf) {
        var box = li.querySelector(".ks-macro-text");
        box.value = text;
        box.hidden = false;
        note(out, "No Zendesk client on this page: copy the text above into your reply.", "error");
        return null;
      }
      return zafCall("the reply text", function () {
        return zaf.invoke("ticket.comment.appendText", text);
      }).then(function () {
        return record({ kind: "macro_inserted", macro_id: Number(li.dataset.macroId) });
      }).then(function () { note(out, "Inserted into the reply.", "ok"); });
    }).catch(function (err) {
      note(out, failed("Macro not inserted", err), "error");
    }).then(function () { button.disabled = false; });
  }

  function search(form) {
    var p = panel();
    var q = form.elements.q.value.trim();
    if (!q) { return; }
    var results = p.querySelector(".ks-results");
    var list = results.querySelector(".ks-list");
    var button = form.querySelector('[type="submit"]');
    button.disabled = true;
    note(p.querySelector(".ks-status"), "");
    /* No language: the API detects the query's own (an agent may search in another language than the ticket's). */
    /* min_confidence 0: an agent's own search shows the best matches even when none is a sure fit. */
    call("POST", "/api/suggest", { subject: q, limit: 5, min_confidence: 0 }).then(function (out) {
      if (!p.dataset.ticket) { return out; }
      return record({ kind: "searched", query: q }).then(function () { return out; }, function (err) {
        showError(failed("The search was not recorded", err));
        return out;
      });
    }).then(function (out) {
      list.replaceChildren();
      (out.articles || []).forEach(function (a) { list.append(articleCard(a)); });
      if (!(out.articles || []).length) {
        var li = document.createElement("li");
        li.className = "muted";
        li.textContent = "Nothing found for “" + q + "”.";
        list.append(li);
      }
      results.hidden = false;
      resize();
    }).catch(function (err) {
      showError(failed("Search failed", err));
    }).then(function () { button.disabled = false; });
  }

  /* KCS capture. One request at a time; after success the form is reset and closed, and the confirmation names
     the new article, so a second click cannot file the same article twice. */
  function createArticle(form) {
    if (form.dataset.busy === "1") { return; }
    var out = form.querySelector(".ks-note");
    var f = form.elements;
    var article = { title: f.title.value.trim(), issue: f.issue.value.trim(), environment: f.environment.value.trim(),
                    resolution: f.resolution.value.trim(), cause: f.cause.value.trim(),
                    language: form.dataset.language || undefined };
    if (f.keywords && f.keywords.value.trim()) { article.keywords = f.keywords.value; }
    if (form.dataset.checked !== "1") { return showSimilar(form, article); }
    try {
      var path = JSON.parse(form.dataset.taxonomy || "[]");
      if (Array.isArray(path) && path.length) { article.taxonomy = path; }
    } catch (e) { /* no taxonomy */ }
    var submit = form.querySelector('[type="submit"]');
    form.dataset.busy = "1";
    submit.disabled = true;
    note(out, "");
    record({ kind: "created", article: article }).then(function (ev) {
      form.reset();
      form.dataset.checked = "";
      form.querySelector(".ks-similar").hidden = true;
      var details = form.closest("details");
      if (details) { details.open = false; }
      note(panel().querySelector(".ks-created"), "Article #" + ev.article_id + " “" + article.title +
        "” created as work in progress. Thank you for capturing it.", "ok");
    }, function (err) {
      note(out, failed("Article not created", err), "error");
    }).then(function () {
      form.dataset.busy = "";
      submit.disabled = false;
    });
  }

  /* KCS: before a new article is filed, the ones that already say the same (POST /api/articles/similar: titles
     and issues, and the ranker). The agent reuses one of them, or creates theirs anyway. */
  function showSimilar(form, article) {
    var box = form.querySelector(".ks-similar");
    var list = box.querySelector(".ks-list");
    var submit = form.querySelector('[type="submit"]');
    submit.disabled = true;
    form.dataset.busy = "1";
    return call("POST", "/api/articles/similar", { title: article.title, issue: article.issue,
                                                   language: article.language })
      .then(function (data) {
        form.dataset.busy = "";
        var found = (data && data.articles) || [];
        if (!found.length) { form.dataset.checked = "1"; return createArticle(form); }
        list.replaceChildren();
        found.forEach(function (a) {
          var li = document.createElement("li");
          li.className = "ks-article";
          li.dataset.articleId = a.id;
          var title = document.createElement("div");
          title.className = "ks-title";
          title.textContent = a.title;
          var reuseButton = document.createElement("button");
          reuseButton.type = "button";
          reuseButton.className = "primary";
          reuseButton.dataset.action = "reuse";
          reuseButton.textContent = "Reuse this instead";
          var status = document.createElement("p");
          status.className = "ks-note";
          status.hidden = true;
          li.append(title, reuseButton, status);
          list.append(li);
        });
        box.hidden = false;
        resize();
      }, function () { form.dataset.busy = ""; form.dataset.checked = "1"; return createArticle(form); })
      .then(function () { submit.disabled = false; });
  }

  document.addEventListener("click", function (e) {
    var button = e.target.closest("[data-action]");
    if (!button || !panel() || !panel().contains(button)) { return; }
    var li = button.closest(".ks-article, .ks-macro");
    switch (button.dataset.action) {
      case "reuse": reuse(li, button); break;
      case "flag":
        li.querySelector(".ks-flag-form").hidden = false;
        li.querySelector(".ks-flag-form textarea").focus();
        resize();
        break;
      case "cancel-flag": li.querySelector(".ks-flag-form").hidden = true; resize(); break;
      case "insert-macro": insertMacro(li, button); break;
      case "focus-search": panel().querySelector(".ks-search input[name=q]").focus(); break;
      case "open-create": {
        var create = panel().querySelector(".ks-create");
        if (create) { create.open = true; create.querySelector("input[name=title]").focus(); resize(); }
        break;
      }
      case "open-article": openArticle(li, button); break;
      case "close-article": closeArticle(); break;
      case "create-anyway": {
        var createForm = button.closest(".ks-create-form");
        createForm.dataset.checked = "1";
        createArticle(createForm);
        break;
      }
      case "clear-search":
        panel().querySelector(".ks-results").hidden = true;
        panel().querySelector(".ks-results .ks-list").replaceChildren();
        resize();
        break;
      default: break;
    }
  });

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!panel() || !panel().contains(form)) { return; }
    e.preventDefault();
    if (form.classList.contains("ks-search")) { search(form); }
    else if (form.classList.contains("ks-flag-form")) { flag(form.closest(".ks-article"), form); }
    else if (form.classList.contains("ks-create-form")) { createArticle(form); }
  });

  document.addEventListener("toggle", function (e) {
    var d = e.target;
    if (d.classList && d.classList.contains("ks-steps") && d.open && d.dataset.lazy === "1") { fillSteps(d); }
    resize();
  }, true);

  /* Inside Zendesk the page starts without a ticket: ask the ZAF client, then load the panel. */
  function loadPanel(ticketId) {
    var url = "/widget/panel?integration=" + encodeURIComponent(boot.integration) +
      "&ticket=" + encodeURIComponent(ticketId);
    return call("GET", url, undefined, "text/html").then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var fresh = doc.getElementById("ks-panel");
      document.getElementById("ks-root").replaceChildren(document.importNode(fresh, true));
      if (panel().dataset.known !== "1" && zaf) { suggestFromTicket(); }
      resize();
    });
  }

  /* The taxonomy line of the panel's head, as the server renders it. */
  function showTaxonomy(taxonomy) {
    var node = panel().querySelector(".ks-node");
    var parts = [];
    if (taxonomy && Array.isArray(taxonomy.path) && taxonomy.path.length) {
      var path = document.createElement("span");
      path.className = "ks-path";
      path.title = "Taxonomy node";
      path.textContent = taxonomy.path.join(" › ");
      var source = document.createElement("span");
      source.className = "badge src-" + taxonomy.source;
      source.textContent = SOURCE_LABELS[taxonomy.source] || taxonomy.source || "";
      var confidence = document.createElement("span");
      confidence.className = "muted ks-confidence";
      confidence.textContent = Math.round((Number(taxonomy.confidence) || 0) * 100) + "%";
      parts = [path, source, confidence];
    } else {
      var none = document.createElement("span");
      none.className = "muted";
      none.textContent = "Taxonomy: not mapped yet";
      parts = [none];
    }
    node.replaceChildren.apply(node, parts);
  }

  /* One section (suggested articles, macros): its list filled from `items`, or its empty line shown. */
  function fillSection(section, tag, items, make) {
    var list = section.querySelector(":scope > .ks-list");
    if (!list) {
      list = document.createElement(tag);
      list.className = "ks-list";
      var empty = section.querySelector(":scope > .ks-empty");
      section.insertBefore(list, empty);
    }
    list.replaceChildren.apply(list, items.map(make));
    list.hidden = !items.length;
    section.querySelectorAll(":scope > .ks-more").forEach(function (more) { more.remove(); });
    var emptyLine = section.querySelector(":scope > .ks-empty");
    if (emptyLine) { emptyLine.hidden = items.length > 0; }
  }

  function macroItem(m) {
    var tpl = document.getElementById("ks-macro-template");
    var li = tpl.content.firstElementChild.cloneNode(true);
    li.dataset.macroId = String(m.id);
    li.dataset.body = m.body || "";
    li.querySelector(".ks-title").textContent = m.title;
    li.querySelector(".ks-language").textContent = String(m.language || "").toUpperCase();
    return li;
  }

  /* A ticket whose text the sidecar does not hold (no webhook yet): rank from the text the ZAF client gives,
     every time the panel opens, and show the result as the ticket's suggestions (nothing is stored). */
  function suggestFromTicket() {
    zafCall("the ticket's text", function () {
      return zaf.get(["ticket.subject", "ticket.description"]);
    }).then(function (data) {
      var subject = data["ticket.subject"] || "";
      var description = data["ticket.description"] || "";
      if (!subject && !description) { return null; }
      return call("POST", "/api/suggest", { subject: subject, description: description, limit: 5 })
        .then(function (out) {
          var p = panel();
          showTaxonomy(out.taxonomy);
          var suggested = p.querySelector(".ks-suggested");
          fillSection(suggested, "ol", out.articles || [], articleCard);
          suggested.querySelector(".ks-computed").hidden = false;
          var empty = suggested.querySelector(":scope > .ks-empty");
          var guidance = document.getElementById("ks-nothing-fits-template");
          if (empty && guidance && !(out.articles || []).length && !empty.classList.contains("ks-nothing-fits")) {
            empty.replaceWith(guidance.content.firstElementChild.cloneNode(true));    // say plainly: nothing fits
          }
          fillSection(p.querySelector(".ks-macros"), "ul", out.macros || [], macroItem);
          if (out.language) { p.dataset.language = out.language; }
          p.dataset.subject = subject;
          var head = p.querySelector(".ks-ticket");
          if (head && subject && !head.querySelector(".ks-subject")) {
            var shown = document.createElement("span");
            shown.className = "ks-subject";
            shown.textContent = subject;
            head.append(shown);
          }
          var form = p.querySelector(".ks-create-form");
          if (form) {
            if (out.language) { form.dataset.language = out.language; }
            form.dataset.taxonomy = JSON.stringify((out.taxonomy && out.taxonomy.path) || []);
            if (!form.elements.title.defaultValue) { form.elements.title.defaultValue = subject; }
            if (!form.elements.issue.defaultValue) { form.elements.issue.defaultValue = description; }
          }
          resize();
        });
    }).catch(function (err) { showError(failed("Could not rank for this ticket", err)); });
  }

  function start() {
    if (panel()) {
      if (panel().dataset.known !== "1" && panel().dataset.ticket && zaf) { suggestFromTicket(); }
      resize();
      return;
    }
    var waiting = document.getElementById("ks-waiting");
    if (!zaf) {
      note(waiting, "No ticket: open this app from a Zendesk ticket (the Zendesk Apps framework client is not " +
        "available on this page).", "error");
      return;
    }
    zafCall("the ticket id", function () { return zaf.get("ticket.id"); }).then(function (data) {
      var id = data["ticket.id"];
      if (id === undefined || id === null || id === "") { throw new Error("Zendesk gave no ticket id"); }
      return loadPanel(String(id));
    }).catch(function (err) { note(waiting, failed("The ticket could not be loaded", err), "error"); });
  }

  start();
}());
