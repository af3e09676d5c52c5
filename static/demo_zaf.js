/* A stand-in for the Zendesk Apps framework client, for the demo ticket page only.
 * It answers the calls the sidebar makes, from the fake ticket on the page:
 *   client.get('ticket.id' | 'ticket.subject' | 'ticket.description' | 'currentUser.name')
 *   client.invoke('ticket.comment.appendText', text)  -> appends to the page's reply box
 *   client.invoke('resize', {...})                     -> accepted, nothing to do
 */
(function () {
  "use strict";

  function ticketData() {
    var el = document.getElementById("demo-ticket");
    var d = el ? el.dataset : {};
    return { "ticket.id": d.ticketId, "ticket.subject": d.subject, "ticket.description": d.description,
             "currentUser.name": d.agent };
  }

  function appendText(text) {
    var box = document.getElementById("demo-comment");
    if (!box) { return Promise.reject(new Error("the demo page has no reply box")); }
    var sep = box.value && !/\n$/.test(box.value) ? "\n" : "";
    box.value += sep + String(text);
    box.dispatchEvent(new Event("input", { bubbles: true }));
    return Promise.resolve({});
  }

  var client = {
    get: function (paths) {
      var all = ticketData();
      var out = { errors: {} };
      (Array.isArray(paths) ? paths : [paths]).forEach(function (p) {
        if (p in all) { out[p] = all[p]; } else { out.errors[p] = { message: "not in the demo client" }; }
      });
      return Promise.resolve(out);
    },
    invoke: function (name, arg) {
      if (name === "ticket.comment.appendText") { return appendText(arg); }
      if (name === "resize") { return Promise.resolve({}); }
      return Promise.reject(new Error("the demo client does not support " + name));
    },
    on: function () {},
    context: function () { return Promise.resolve({ product: "support", location: "ticket_sidebar" }); }
  };

  window.ZAFClient = { init: function () { return client; } };
}());
