import { type DragEvent, useState } from 'react';

/** Files dropped on the zone or chosen with its file input (a real, labelled input: keyboard and screen readers). */
export function UploadDropzone({ onFiles }: { onFiles(files: File[]): void }) {
  const [over, setOver] = useState(false);

  const dragOver = (event: DragEvent) => {
    if (!event.dataTransfer.types.includes('Files')) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    setOver(true);
  };
  const drop = (event: DragEvent) => {
    event.preventDefault();
    setOver(false);
    const files = Array.from(event.dataTransfer.files);
    if (files.length) onFiles(files);
  };

  return (
    <section
      className={over ? 'dropzone over' : 'dropzone'}
      aria-label="Drop zone"
      onDragOver={dragOver}
      onDragEnter={dragOver}
      onDragLeave={() => setOver(false)}
      onDrop={drop}
    >
      <p>Drop video files here, or choose them:</p>
      <label htmlFor="upload-files">Video files</label>{' '}
      <input
        id="upload-files"
        type="file"
        multiple
        onChange={(event) => {
          const files = Array.from(event.target.files ?? []);
          // Cleared, so that choosing the same file again is a change too.
          event.target.value = '';
          if (files.length) onFiles(files);
        }}
      />
    </section>
  );
}
