// The demo's content: courses, students and ad inventory. Plain data, no fetches, so the
// site renders instantly and the end-to-end tests know exactly what is on every page.

export const COURSES = [
  { id: 'calc-1', title: 'Calculus I: Limits and Derivatives', subject: 'Mathematics', level: 'Intro', weeks: 12, rating: 4.7, tags: ['calculus', 'math', 'derivatives'] },
  { id: 'calc-2', title: 'Calculus II: Integration and Series', subject: 'Mathematics', level: 'Intermediate', weeks: 12, rating: 4.6, tags: ['calculus', 'math', 'integrals'] },
  { id: 'linalg', title: 'Linear Algebra for Engineers', subject: 'Mathematics', level: 'Intermediate', weeks: 10, rating: 4.8, tags: ['matrices', 'math', 'vectors'] },
  { id: 'stats-101', title: 'Statistics and Probability', subject: 'Mathematics', level: 'Intro', weeks: 8, rating: 4.5, tags: ['statistics', 'probability', 'data'] },
  { id: 'py-intro', title: 'Programming in Python', subject: 'Computer Science', level: 'Intro', weeks: 8, rating: 4.9, tags: ['python', 'programming', 'coding'] },
  { id: 'dsa', title: 'Data Structures and Algorithms', subject: 'Computer Science', level: 'Intermediate', weeks: 14, rating: 4.8, tags: ['algorithms', 'programming', 'interviews'] },
  { id: 'ml-found', title: 'Machine Learning Foundations', subject: 'Computer Science', level: 'Advanced', weeks: 12, rating: 4.7, tags: ['machine learning', 'python', 'data'] },
  { id: 'dbms', title: 'Database Systems', subject: 'Computer Science', level: 'Intermediate', weeks: 10, rating: 4.4, tags: ['sql', 'databases', 'data'] },
  { id: 'os', title: 'Operating Systems', subject: 'Computer Science', level: 'Advanced', weeks: 12, rating: 4.5, tags: ['systems', 'linux', 'programming'] },
  { id: 'physics-mech', title: 'Physics: Mechanics', subject: 'Physics', level: 'Intro', weeks: 10, rating: 4.6, tags: ['physics', 'mechanics', 'calculus'] },
  { id: 'em-waves', title: 'Electromagnetism and Waves', subject: 'Physics', level: 'Intermediate', weeks: 12, rating: 4.3, tags: ['physics', 'waves'] },
  { id: 'organic-chem', title: 'Organic Chemistry', subject: 'Chemistry', level: 'Intermediate', weeks: 12, rating: 4.2, tags: ['chemistry', 'organic'] },
  { id: 'micro-econ', title: 'Principles of Microeconomics', subject: 'Economics', level: 'Intro', weeks: 8, rating: 4.5, tags: ['economics', 'markets'] },
  { id: 'fin-acc', title: 'Financial Accounting', subject: 'Commerce', level: 'Intro', weeks: 8, rating: 4.1, tags: ['accounting', 'finance'] },
  { id: 'tech-writing', title: 'Technical Writing', subject: 'Humanities', level: 'Intro', weeks: 6, rating: 4.4, tags: ['writing', 'communication'] },
  { id: 'gre-quant', title: 'GRE Quantitative Reasoning', subject: 'Test Prep', level: 'Intermediate', weeks: 6, rating: 4.6, tags: ['gre', 'math', 'test prep'] },
];

// Students of the identity switcher: user id, display name and the traits sent with identify().
export const STUDENTS = [
  { id: 'stu-asha', name: 'Asha Rao', college: 'IIT Madras', cohort: 'CSE-2027' },
  { id: 'stu-ravi', name: 'Ravi Kumar', college: 'NIT Trichy', cohort: 'ECE-2026' },
  { id: 'stu-meera', name: 'Meera Iyer', college: 'BITS Pilani', cohort: 'MATH-2028' },
  { id: 'stu-kabir', name: 'Kabir Singh', college: 'Delhi University', cohort: 'ECO-2027' },
];

// Ad inventory: one creative per campaign and size. Sizes follow the IAB standard units.
export const CAMPAIGNS = [
  { campaign: 'gre-prep-2026', creative: 'gre-prep-v3', headline: 'GRE in 6 weeks', body: 'Live classes + 20 full-length mocks. Scholarship for top scorers.', cta: 'Start free trial', course: 'gre-quant', hue: 210 },
  { campaign: 'student-laptop-deal', creative: 'laptop-deal-v1', headline: 'Student laptops from ₹39,999', body: 'Verified student pricing. No-cost EMI for 12 months.', cta: 'See offers', course: 'py-intro', hue: 28 },
  { campaign: 'code-bootcamp', creative: 'bootcamp-v2', headline: 'Crack placements with DSA', body: '300 problems, mock interviews, mentors from top companies.', cta: 'Join the cohort', course: 'dsa', hue: 145 },
  { campaign: 'study-abroad-fair', creative: 'abroad-fair-v1', headline: 'Study abroad fair — Saturday', body: '40 universities, on-spot profile evaluation.', cta: 'Register', course: 'tech-writing', hue: 280 },
  { campaign: 'edu-loan', creative: 'edu-loan-v2', headline: 'Education loans at 8.9 %', body: 'Collateral-free up to ₹40 lakh. Decision in 48 hours.', cta: 'Check eligibility', course: 'fin-acc', hue: 350 },
];

// Placement → IAB size. The billboard (970×250 = 242 500 px²) is exactly at the MRC
// large-ad threshold, so it is measured with the 30 % rule.
export const AD_SIZES = {
  top_banner: [728, 90],
  sidebar: [300, 250],
  in_feed: [640, 120],
  sticky_footer: [728, 50],
  below_fold: [970, 250],
};

// Experiment `ad_placement`: where the in-feed ad goes and whether the sidebar ad is sticky.
export const EXPERIMENT = 'ad_placement';
export const VARIANTS = {
  A: { label: 'A · in-feed after result 3', inFeedAfter: 3, stickySidebar: false },
  B: { label: 'B · in-feed after result 1, sticky sidebar', inFeedAfter: 1, stickySidebar: true },
};

export function courseById(id) {
  return COURSES.find((c) => c.id === id);
}

export function searchCourses(query) {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return COURSES.slice();
  return COURSES.filter((c) => {
    const haystack = `${c.title} ${c.subject} ${c.tags.join(' ')}`.toLowerCase();
    return words.every((w) => haystack.includes(w));
  });
}

export function relatedCourses(course, limit = 3) {
  return COURSES.filter((c) => c.id !== course.id && (c.subject === course.subject || c.tags.some((t) => course.tags.includes(t)))).slice(0, limit);
}

// Deterministic campaign for a slot, so a slot shows the same ad for the same page.
export function campaignFor(slotId) {
  let h = 0;
  for (const ch of slotId) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return CAMPAIGNS[h % CAMPAIGNS.length];
}

export function slugOf(subject) {
  return subject.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}

export function subjectFromSlug(slug) {
  return COURSES.map((c) => c.subject).find((s) => slugOf(s) === slug) ?? '';
}
