// The review desk's page script: keyboard use, checks and print preview as you type.
// Translated text only ever reaches the page through textContent (never innerHTML).
"use strict";

(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const CHECK_DELAY_MS = 150;
  const PREVIEW_DELAY_MS = 250;

  const NOT_TYPED = ["checkbox", "radio", "button", "submit", "reset"];

  function typing(target) {
    if (!target) return false;
    if (target.tagName === "INPUT") return !NOT_TYPED.includes(target.type);  // j/k/a still work from a ticked box
    return target.tagName === "TEXTAREA" || target.tagName === "SELECT" || target.isContentEditable;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  async function postJSON(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({ error: "the desk answered " + response.status }));
    if (!response.ok && !data.error) data.error = "the desk answered " + response.status;
    return data;
  }

  function debounce(fn, ms) {
    let timer = null;
    return function () { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  // -------------------------------------------------------------- lists (j/k over row links)
  function setUpList() {
    const links = Array.from(document.querySelectorAll("a.row-link"));
    if (!links.length) return;
    document.addEventListener("keydown", (event) => {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "/" && !typing(event.target)) {
        const search = document.querySelector('input[type="search"]');
        if (search) { event.preventDefault(); search.focus(); }
        return;
      }
      if (typing(event.target) || (event.key !== "j" && event.key !== "k")) return;
      const at = links.indexOf(document.activeElement);
      const next = event.key === "j" ? Math.min(at + 1, links.length - 1) : Math.max(at - 1, 0);
      links[at < 0 ? 0 : next].focus();
      event.preventDefault();
    });
  }

  // -------------------------------------------------------------- one string
  function setUpString(root) {
    const text = document.getElementById("text");
    const approve = document.getElementById("approve");
    const save = document.getElementById("save");
    const findings = document.getElementById("findings");
    const reason = document.getElementById("reason");
    const rejectForm = document.getElementById("reject");
    const docSelect = document.getElementById("preview-doc");
    const status = document.getElementById("preview-status");
    const pages = document.getElementById("preview-pages");
    const fit = document.getElementById("fit");
    const backTyped = document.getElementById("back-typed");
    const readOnly = !!document.getElementById("refusal");  // the key cannot decide on this language
    const saved = document.querySelector('#decide input[name="base"]').value;  // the saved text (the box may hold kept typing)
    let checkSeq = 0;
    let previewSeq = 0;

    // A warning stays ticked while the same warning (check and message) is shown; a new message needs a new tick.
    function tickedWarnings() {
      const ticked = new Set();
      for (const box of findings.querySelectorAll('input[name="acknowledge"]')) {
        if (box.checked) ticked.add(box.value + "\n" + box.dataset.message);
      }
      return ticked;
    }

    function showFindings(data) {
      const ticked = tickedWarnings();
      findings.replaceChildren();
      if (data.error) { findings.appendChild(el("p", "error", "Checks could not run: " + data.error)); return; }
      if (!data.findings.length) {
        findings.appendChild(el("p", "ok", "No check finds anything in this text."));
      } else {
        const list = el("ul", "findings");
        data.findings.forEach((f, index) => {
          const item = el("li", f.severity);
          const message = el("span", "", f.message);
          message.id = "finding-" + (index + 1);
          item.appendChild(el("b", "", f.severity));
          item.appendChild(document.createTextNode(": "));
          item.appendChild(message);
          item.appendChild(document.createTextNode(" "));
          item.appendChild(el("code", "", "[" + f.check + "]"));
          if (f.severity === "warning") {
            const label = el("label", "ack");
            const box = el("input");
            box.type = "checkbox";
            box.name = "acknowledge";
            box.value = f.check;
            box.dataset.message = f.message;
            box.setAttribute("form", "decide");
            box.setAttribute("aria-describedby", message.id);
            box.checked = ticked.has(f.check + "\n" + f.message);
            label.appendChild(box);
            label.appendChild(document.createTextNode(" I have read this warning"));
            item.appendChild(document.createTextNode(" "));
            item.appendChild(label);
          }
          list.appendChild(item);
        });
        findings.appendChild(list);
      }
      approve.disabled = readOnly || data.errors > 0;
      approve.title = data.errors > 0 ? "Fix the errors before approving" : "";
    }

    async function runChecks() {
      const seq = ++checkSeq;
      const data = await postJSON(root.dataset.checkUrl, { text: text.value });
      if (seq === checkSeq) showFindings(data);
    }

    async function runPreview() {
      if (!docSelect) return;
      const option = docSelect.selectedOptions[0];
      const seq = ++previewSeq;
      const started = performance.now();
      status.textContent = "Drawing the proof…";
      root.dataset.previewState = "drawing";
      const data = await postJSON(root.dataset.previewUrl, { text: text.value, edition: option.dataset.edition, format: option.dataset.format });
      if (seq !== previewSeq) return;
      fit.replaceChildren();
      const problems = (data.errors || []).concat(data.fit_problems || []);
      if (data.error) problems.push(data.error);
      for (const problem of problems) fit.appendChild(el("li", "", problem));
      fit.hidden = !problems.length;
      const images = [];
      for (const page of data.pages || []) {
        const figure = el("figure", "page");
        const img = el("img");
        img.src = page.url;
        img.width = page.width;
        img.height = page.height;
        img.alt = "Proof of " + option.dataset.edition + " " + option.dataset.format + ", page " + page.number + (data.outlined ? ", this string outlined" : "");
        figure.appendChild(img);
        figure.appendChild(el("figcaption", "", "Page " + page.number));
        images.push(figure);
      }
      pages.replaceChildren(...images);
      const ms = Math.round(performance.now() - started);
      status.textContent = (data.pages && data.pages.length)
        ? option.dataset.edition + " · " + option.dataset.format + ": " + (problems.length ? "does not print as it stands" : "the text fits") + " (" + ms + " ms)"
        : "No preview.";
      root.dataset.previewState = "ready";
      root.dataset.previewText = text.value;
    }

    const checksLater = debounce(runChecks, CHECK_DELAY_MS);
    const previewLater = debounce(runPreview, PREVIEW_DELAY_MS);
    text.addEventListener("input", () => {
      if (backTyped) backTyped.hidden = text.value === saved;
      checksLater();
      previewLater();
    });
    if (docSelect) docSelect.addEventListener("change", runPreview);

    // The reject form says whether the text box holds unsaved typing: the desk refuses to reject then.
    rejectForm.addEventListener("submit", () => {
      const copy = document.createElement("input");
      copy.type = "hidden"; copy.name = "text"; copy.value = text.value;
      rejectForm.appendChild(copy);
    });

    text.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { text.blur(); event.preventDefault(); }
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); save.click(); }
    });

    document.addEventListener("keydown", (event) => {
      if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
      const go = (url) => { if (url) window.location.assign(url); };
      switch (event.key) {
        case "j": go(root.dataset.next); break;
        case "k": go(root.dataset.previous); break;
        case "a": if (!approve.disabled) approve.click(); break;
        case "e": text.focus(); break;
        case "r": reason.focus(); break;
        default: return;
      }
      event.preventDefault();
    });

    if (backTyped) backTyped.hidden = text.value === saved;
    if (text.value !== saved) runChecks();  // typing kept after a refusal: check what is in the box
    runPreview();
  }

  document.addEventListener("DOMContentLoaded", () => {
    const root = document.querySelector(".string-layout");
    if (root) setUpString(root); else setUpList();
  });
})();
