// Builds only the catalogue page (the one that imports @sightline/sdk from npm). The search
// page uses the script-tag snippet and is served as-is from public/ by the demo server.
import { defineConfig } from 'vite';

export default defineConfig({
  publicDir: false,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: { input: { catalogue: 'catalogue/index.html' } },
  },
});
