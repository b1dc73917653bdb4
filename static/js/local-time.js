// Local time: every time and day on a page in the person's own time zone and language.
//
// Pages and htmx answers come rendered in the person's zone (accounts.middleware). What the
// sockets push is rendered once for all its readers, in no one's zone (conversations.rendering,
// docs/performance-notes.md "Times in pushed frames"): its times are formatted here, and a
// pushed message that starts a day in this zone gets its day line here. Without JavaScript
// there are no pushes, and the server's times are the person's already.
"use strict";

(function localTime() {
  const body = document.body;
  if (!body || !body.dataset.moment) return; // signed out: nothing to localise

  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const zone = body.dataset.timezone || browserZone || "UTC";
  const language = document.documentElement.lang || "en";

  const clock = new Intl.DateTimeFormat(language, { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  // en-CA writes dates as YYYY-MM-DD: a day's key, comparable as text.
  const dayOf = new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" });
  const dateParts = new Intl.DateTimeFormat(language, {
    timeZone: zone, weekday: "long", day: "numeric", month: "long", year: "numeric",
  });

  // The same words as the server's title (conversations.days.full_moment), from one translated pattern.
  function fullMoment(moment) {
    const part = Object.fromEntries(dateParts.formatToParts(moment).map((p) => [p.type, p.value]));
    const names = {
      weekday: part.weekday.charAt(0).toLocaleUpperCase(language) + part.weekday.slice(1),
      month: part.month,
      day: part.day,
      year: part.year,
      time: clock.format(moment),
    };
    return body.dataset.moment.replace(/\{(\w+)\}/g, (whole, name) => names[name] ?? whole);
  }

  // A message's time and its full form (its title); a chat row's time when it is today (a pushed row is new).
  function localise(root) {
    const today = dayOf.format(new Date());
    for (const time of root.querySelectorAll("time[datetime*='T']:not([data-local])")) {
      const moment = new Date(time.getAttribute("datetime"));
      if (Number.isNaN(moment.getTime())) continue;
      time.dataset.local = "";
      if (time.classList.contains("chat-time")) {
        if (dayOf.format(moment) === today) time.textContent = clock.format(moment);
        continue;
      }
      time.textContent = clock.format(moment);
      // Pushed frames leave the title out (a frame stays under 1 KB): it is written here.
      time.title = fullMoment(moment);
    }
  }

  const sentAt = (message) => {
    const time = message.querySelector(".message-meta time, .message-system time");
    return time ? new Date(time.getAttribute("datetime")) : null;
  };

  // A day line before each of the last messages that starts a day here and has none.
  function addDayLines() {
    const list = document.getElementById("messages");
    if (!list) return;
    for (const message of [...list.querySelectorAll(":scope > .message")].slice(-5)) {
      const moment = sentAt(message);
      if (!moment) continue;
      let before = message.previousElementSibling;
      while (before && !before.classList.contains("message") && !before.classList.contains("day-line")) {
        before = before.previousElementSibling;
      }
      if (before && before.classList.contains("day-line")) continue;
      const previous = before && sentAt(before);
      if (previous && dayOf.format(previous) === dayOf.format(moment)) continue;
      // The first message shown starts a day only if nothing older is left to load.
      if (!previous && (list.querySelector(":scope > .message") !== message || !document.querySelector(".history-start"))) {
        continue;
      }
      const line = document.createElement("div");
      line.className = "day-line";
      line.id = `day-${message.id.replace("message-", "")}`;
      const label = document.createElement("time");
      label.setAttribute("datetime", dayOf.format(moment));
      label.textContent = list.dataset.today; // a pushed message is new: it was sent today
      line.append(label);
      message.before(line);
    }
  }

  function update() {
    localise(document);
    addDayLines();
  }
  update();
  document.addEventListener("htmx:wsAfterMessage", update);
  document.addEventListener("htmx:afterSettle", update);

  // The first page a person opens with JavaScript tells the server their zone (only while
  // they have none: one they chose stays). The page was rendered in the server's zone; if
  // that shows other times, it is shown again in theirs, unless something is being typed.
  const url = body.dataset.timezoneUrl;
  if (!url || !browserZone) return;
  const headers = JSON.parse(body.getAttribute("hx-headers") || "{}");
  fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRFToken": headers["x-csrftoken"] || "" },
    body: new URLSearchParams({ timezone: browserZone }),
  }).then((answer) => {
    if (!answer.ok) return;
    delete body.dataset.timezoneUrl;
    body.dataset.timezone = browserZone;
    const shown = body.dataset.shownZone || "UTC";
    const now = new Date();
    const there = (timeZone) => new Date(now.toLocaleString("en-US", { timeZone })).getTime();
    // Any field with text in it (a search box too) or with the focus: a reload would lose it.
    const fields = document.querySelectorAll("textarea, input[type=text], input[type=search], input:not([type])");
    const typing = [...fields].some((field) => field.value || field === document.activeElement);
    if (there(shown) !== there(browserZone) && !typing) location.reload();
  }, () => {});
})();
