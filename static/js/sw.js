// FlowChat's service worker, served from the site root (/sw.js) so that its scope is the whole
// site. It only shows notifications: pages are never cached here (every page is server-rendered
// and must be current). The push payload is JSON {title, body, url, tag, chat, message, unread}
// (conversations/push.py).
"use strict";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = {};
  }
  const url = new URL(typeof data.url === "string" ? data.url : "/", self.location.origin);
  // Only ever a page of this site: a payload cannot send the click elsewhere.
  const target = url.origin === self.location.origin ? url.href : self.location.origin + "/";
  const shown = self.registration.showNotification(String(data.title || "FlowChat"), {
    body: String(data.body || ""),
    tag: String(data.tag || "flowchat"),
    // A newer message for the same chat replaces the notification and still alerts.
    renotify: Boolean(data.tag),
    icon: "/static/img/icon-192.png",
    badge: "/static/img/icon-maskable-192.png",
    data: { url: target, chat: data.chat ?? null, message: data.message ?? null },
  });
  const work = [shown];
  if (Number.isInteger(data.unread) && "setAppBadge" in self.navigator) {
    work.push(
      (data.unread > 0 ? self.navigator.setAppBadge(data.unread) : self.navigator.clearAppBadge()).catch(() => {}),
    );
  }
  event.waitUntil(Promise.all(work));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = (event.notification.data && event.notification.data.url) || self.location.origin + "/";
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      // A tab already on that chat is focused; else a tab of this site goes there; else a new window.
      const same = windows.find((client) => new URL(client.url).pathname === new URL(target).pathname);
      if (same) return same.focus();
      const any = windows.find((client) => "navigate" in client);
      if (any) {
        const focused = await any.focus();
        return focused.navigate(target);
      }
      return self.clients.openWindow(target);
    })(),
  );
});
