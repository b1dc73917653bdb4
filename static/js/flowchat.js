// FlowChat's small enhancements. Everything here is optional: each page works without it.
"use strict";

document.documentElement.classList.add("js");

document.addEventListener("change", (event) => {
  // Preference forms apply as soon as a choice changes; without JS the Apply button posts them.
  const form = event.target.closest("form[data-autosubmit]");
  if (form) form.requestSubmit();
});

document.addEventListener("click", (event) => {
  // Close an open menu when clicking elsewhere.
  for (const menu of document.querySelectorAll("details.menu[open]")) {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  }
});

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  for (const menu of document.querySelectorAll("details.menu[open]")) {
    menu.removeAttribute("open");
    menu.querySelector("summary").focus();
  }
});
