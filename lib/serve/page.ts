// GET /: one self-contained page (no scripts, styles or fonts from elsewhere:
// the server may run where nothing outside the machine is reachable). Pick or
// drop an image; it is POSTed to /v1/classify as raw bytes and the top-k
// come back as bars.
export function pageHtml(title: string, classes: string[]): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  body { font: 16px/1.4 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
  #drop { border: 2px dashed #999; border-radius: 8px; padding: 2rem; text-align: center; cursor: pointer; }
  #drop.over { border-color: #2a6ebb; background: #eef5fc; }
  #preview { max-width: 100%; max-height: 16rem; display: block; margin: 1rem auto; }
  #results { list-style: none; padding: 0; }
  .prediction { display: grid; grid-template-columns: 8rem 1fr 4.5rem; gap: .5rem; align-items: center; margin: .3rem 0; }
  .track { background: #eee; border-radius: 4px; height: 1.1rem; }
  .bar { background: #2a6ebb; border-radius: 4px; height: 100%; }
  .probability { text-align: right; font-variant-numeric: tabular-nums; }
  #status[data-state="error"] { color: #b00; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p>Classes: ${classes.map(escapeHtml).join(", ")}</p>
<label id="drop">Drop an image here, or click to pick one
  <input id="file" type="file" accept="image/*" hidden>
</label>
<p><label>Top <input id="topk" type="number" min="1" max="${classes.length}" value="${Math.min(5, classes.length)}"></label></p>
<p id="status" data-state="idle" role="status"></p>
<img id="preview" alt="" hidden>
<ol id="results"></ol>
<script>
"use strict";
const drop = document.getElementById("drop");
const file = document.getElementById("file");
const statusLine = document.getElementById("status");
const results = document.getElementById("results");
const preview = document.getElementById("preview");

function setStatus(state, text) {
  statusLine.dataset.state = state;
  statusLine.textContent = text;
}

async function classify(image) {
  results.replaceChildren();
  preview.src = URL.createObjectURL(image);
  preview.hidden = false;
  setStatus("busy", "Classifying " + image.name + "...");
  const topk = document.getElementById("topk").value || "1";
  try {
    const response = await fetch("/v1/classify?topk=" + encodeURIComponent(topk), {
      method: "POST",
      headers: { "content-type": image.type || "application/octet-stream" },
      body: image,
    });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || response.statusText);
    for (const { label, probability } of body) {
      const row = document.createElement("li");
      row.className = "prediction";
      const name = document.createElement("span");
      name.className = "label";
      name.textContent = label;
      const track = document.createElement("span");
      track.className = "track";
      const bar = document.createElement("span");
      bar.className = "bar";
      bar.style.display = "block";
      bar.style.width = (probability * 100).toFixed(1) + "%";
      track.append(bar);
      const value = document.createElement("span");
      value.className = "probability";
      value.textContent = (probability * 100).toFixed(1) + "%";
      row.append(name, track, value);
      results.append(row);
    }
    setStatus("done", image.name);
  } catch (err) {
    setStatus("error", "Could not classify " + image.name + ": " + err.message);
  }
}

file.addEventListener("change", () => { if (file.files[0]) classify(file.files[0]); });
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  if (e.dataTransfer.files[0]) classify(e.dataTransfer.files[0]);
});
</script>
</body>
</html>
`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
