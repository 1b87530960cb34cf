// Demo-side state that survives reloads: who is "signed in" and which experiment variant
// this browser is in. Kept in localStorage under demo-owned keys (the SDK keeps its own).
import { STUDENTS, VARIANTS } from './data.js';

const STUDENT_KEY = 'campuslearn.student';
const VARIANT_KEY = 'campuslearn.variant';

function read(key) {
  try { return localStorage.getItem(key); } catch { return null; }
}
function write(key, value) {
  try { value === null ? localStorage.removeItem(key) : localStorage.setItem(key, value); } catch { /* private mode: memory only */ }
}

export function currentStudent() {
  const id = read(STUDENT_KEY);
  return STUDENTS.find((s) => s.id === id) ?? null;
}

export function setStudent(id) {
  write(STUDENT_KEY, id);
}

// ?variant=A|B forces a variant (links in the README, end-to-end tests); otherwise a coin
// flip on the first visit, then sticky.
export function currentVariant() {
  const forced = new URLSearchParams(location.search).get('variant');
  if (forced && VARIANTS[forced]) { write(VARIANT_KEY, forced); return forced; }
  const stored = read(VARIANT_KEY);
  if (stored && VARIANTS[stored]) return stored;
  const assigned = Math.random() < 0.5 ? 'A' : 'B';
  write(VARIANT_KEY, assigned);
  return assigned;
}

export function setVariant(variant) {
  write(VARIANT_KEY, variant);
}
