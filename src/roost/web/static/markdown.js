// Markdown to safe HTML: marked parses, DOMPurify keeps only harmless markup (a model's
// answer is untrusted text), highlight.js colours code, and each code block gets a copy
// button.

import { marked } from "./vendor/marked.esm.js";
import DOMPurify from "./vendor/purify.es.mjs";
import hljs from "./vendor/highlight.min.js";
import { h } from "./dom.js";

marked.setOptions({ gfm: true, breaks: true });

// Links open in a new tab without handing it this page.
DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && node.getAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
});

export function renderMarkdown(target, text) {
  const html = DOMPurify.sanitize(marked.parse(text || ""), { USE_PROFILES: { html: true } });
  target.innerHTML = html;
  for (const block of target.querySelectorAll("pre > code")) {
    const language = [...block.classList].find((name) => name.startsWith("language-"))?.slice(9);
    if (language && hljs.getLanguage(language)) {
      block.innerHTML = hljs.highlight(block.textContent, { language }).value;
    } else if (block.textContent.length < 20000) {
      block.innerHTML = hljs.highlightAuto(block.textContent).value;
    }
    block.classList.add("hljs");
    const copy = h("button", { class: "copy", type: "button", "aria-label": "Copy code" }, "Copy");
    copy.addEventListener("click", async () => {
      await navigator.clipboard?.writeText(block.textContent);
      copy.textContent = "Copied";
      setTimeout(() => (copy.textContent = "Copy"), 1500);
    });
    block.parentElement.classList.add("code");
    block.parentElement.prepend(copy);
  }
}

// A unified diff, line by line, coloured by what each line does.
export function renderDiff(text) {
  const lines = (text || "").split("\n").map((line) => {
    let kind = "context";
    if (line.startsWith("+++") || line.startsWith("---") || line.startsWith("diff ")) kind = "file";
    else if (line.startsWith("@@")) kind = "hunk";
    else if (line.startsWith("+")) kind = "add";
    else if (line.startsWith("-")) kind = "del";
    return h("span", { class: `diff-${kind}` }, line + "\n");
  });
  return h("pre", { class: "diff", tabindex: "0", "aria-label": "Changes" }, lines);
}
