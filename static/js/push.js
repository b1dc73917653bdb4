// Settings, "Notifications on this device": asks the browser for permission, registers the
// service worker (/sw.js, flowchat/webapp.py), subscribes with the server's VAPID public key and
// hands the subscription to the server (accounts.views.add_device), which keeps it with this
// session: logging out removes the device. Without JavaScript (or Push) the section says so.
"use strict";

(() => {
  const box = document.getElementById("push-device");
  if (!box || !("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) return;
  const button = document.getElementById("push-enable");
  const status = document.getElementById("push-status");
  const say = (id) => {
    status.textContent = document.getElementById(id).content.textContent.trim();
  };
  const key = (base64url) => {
    const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (base64url.length % 4)) % 4));
    return Uint8Array.from(text, (c) => c.charCodeAt(0));
  };
  box.hidden = false;

  navigator.serviceWorker.getRegistration("/").then(async (registration) => {
    if (registration && Notification.permission === "granted" && (await registration.pushManager.getSubscription())) {
      say("push-on");
    }
  });

  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const permission = await Notification.requestPermission();
      if (permission !== "granted") {
        say("push-blocked");
        return;
      }
      const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
      await navigator.serviceWorker.ready;
      const subscription =
        (await registration.pushManager.getSubscription()) ||
        (await registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: key(box.dataset.publicKey),
        }));
      const response = await fetch(box.dataset.url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": box.dataset.csrf },
        body: JSON.stringify(subscription.toJSON ? subscription.toJSON() : subscription),
        credentials: "same-origin",
      });
      if (!response.ok) throw new Error(`The server answered ${response.status}`);
      // The list of devices is the server's: show it with this one in it.
      window.location.assign(window.location.pathname + "?device=added#notifications");
    } catch (error) {
      console.warn("Push subscription failed:", error);
      say("push-failed");
    } finally {
      button.disabled = false;
    }
  });
})();
