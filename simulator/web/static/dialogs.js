// The two sheets a phone opens over its chat: attach a photo, and the escort's camera.
import { el } from "./render.js";

// -- attach: the sample KTPs, a photo from this computer, or any file as a document ----------

export function openAttach(phone, samples) {
  const dialog = document.getElementById("attach");
  const grid = dialog.querySelector(".samples");
  grid.replaceChildren();
  samples.forEach((url, index) => {
    const choice = el("button", "sample");
    choice.type = "button";
    const img = el("img");
    img.src = url;
    img.alt = `KTP spesimen ${index + 1}`;
    choice.append(img, el("span", "", `KTP spesimen ${index + 1}`));
    choice.addEventListener("click", async () => {
      dialog.close();
      const blob = await (await fetch(url)).blob();
      await phone.sendFile("photo", blob, url.split("/").pop());
    });
    grid.append(choice);
  });
  pickFile(dialog.querySelector("input.as-photo"), dialog, (file) => phone.sendFile("photo", file, file.name));
  pickFile(dialog.querySelector("input.as-document"), dialog, (file) => phone.sendFile("document", file, file.name));
  dialog.querySelector(".close").onclick = () => dialog.close();
  dialog.showModal();
}

function pickFile(input, dialog, send) {
  input.value = "";
  input.onchange = () => {
    const file = input.files[0];
    if (!file) return;
    dialog.close();
    send(file);
  };
}

// -- scan: a camera view of a badge; the simulator reads the QR and follows the link ----------

// Every photo on any phone, newest first: what the escort can point the camera at.
function allPhotos(phones) {
  const photos = [];
  for (const phone of phones) {
    for (const message of phone.messages.values()) {
      if (message.photo) photos.push({ ...message, owner: phone.person.title });
    }
  }
  return photos.sort((a, b) => b.seq - a.seq);
}

export function openScanner(phone, phones) {
  const photos = allPhotos(phones);
  const dialog = document.getElementById("scanner");
  const finder = dialog.querySelector(".viewfinder");
  const preview = finder.querySelector("img");
  const note = dialog.querySelector(".scan-note");
  const list = dialog.querySelector(".badges");
  preview.hidden = true;
  finder.classList.remove("scanning");
  note.textContent = "Arahkan kamera ke QR pada badge pengunjung.";
  note.classList.remove("error");
  list.replaceChildren();

  const scan = async (source, src) => {
    preview.src = src;
    preview.hidden = false;
    finder.classList.add("scanning");
    note.textContent = "Memindai…";
    note.classList.remove("error");
    try {
      const result = await phone.scan(source);
      dialog.close();
      if (!result.message) phone.toast(`QR berisi: ${result.text}`);
    } catch (error) {
      note.textContent = error.message;
      note.classList.add("error");
    } finally {
      finder.classList.remove("scanning");
    }
  };

  for (const photo of photos) {
    const choice = el("button", "badge-choice");
    choice.type = "button";
    const img = el("img");
    img.src = photo.photo;
    img.alt = "gambar di chat";
    const caption = (photo.caption || "foto").split("\n")[0];
    choice.append(img, el("span", "", `${photo.owner}: ${caption}`));
    choice.addEventListener("click", () => scan(photo.photo_file_id, photo.photo));
    list.append(choice);
  }
  if (!photos.length) list.append(el("p", "empty", "Belum ada gambar di chat mana pun."));

  const upload = dialog.querySelector("input.scan-upload");
  upload.value = "";
  upload.onchange = () => {
    const file = upload.files[0];
    if (file) scan(file, URL.createObjectURL(file));
  };
  dialog.querySelector(".close").onclick = () => dialog.close();
  dialog.showModal();
}
