import { z } from 'zod';

/**
 * A prompt set: the normal class and the abnormal classes, each described by
 * several phrasings; every phrasing is put into every template and the text
 * embeddings are averaged per class (CLIP's prompt ensembling).
 */
export const promptSetSchema = z
  .object({
    name: z.string().regex(/^[\w.-]+$/, 'letters, digits, ".", "-" and "_" only'),
    templates: z.array(z.string().includes('{}', { message: 'each template needs a {} where the phrase goes' })).min(1),
    normal: z.string().min(1),
    classes: z.record(z.string().min(1), z.array(z.string().min(1)).min(1)),
  })
  .refine((set) => set.normal in set.classes, {
    message: 'the normal class must be one of the classes',
    path: ['normal'],
  })
  .refine((set) => Object.keys(set.classes).length >= 2, {
    message: 'needs the normal class and at least one other',
    path: ['classes'],
  });

export type PromptSet = z.infer<typeof promptSetSchema>;

/** Normal activity and the 13 anomaly classes of UCF-Crime, several phrasings each. */
export const UCF_CRIME_PROMPTS: PromptSet = {
  name: 'ucf-crime',
  templates: [
    'a surveillance video of {}',
    'a CCTV frame showing {}',
    'security camera footage of {}',
    'a photo of {}',
  ],
  normal: 'Normal',
  classes: {
    Normal: ['normal activity', 'an ordinary everyday scene', 'people walking normally', 'a quiet empty street'],
    Abuse: ['abuse', 'a person being abused', 'someone mistreating another person'],
    Arrest: ['an arrest', 'police arresting a person', 'police officers handcuffing someone'],
    Arson: ['arson', 'someone setting a fire', 'a building burning in flames'],
    Assault: ['an assault', 'a person attacking another person', 'someone being beaten'],
    Burglary: ['a burglary', 'a person breaking into a building', 'a break-in through a window'],
    Explosion: ['an explosion', 'a fire and explosion', 'a blast with smoke and flames'],
    Fighting: ['fighting', 'people fighting each other', 'a fight breaking out'],
    RoadAccidents: ['a road accident', 'a car crash', 'vehicles colliding on the road'],
    Robbery: ['a robbery', 'a person robbing someone at gunpoint', 'an armed robbery in a shop'],
    Shooting: ['a shooting', 'a person firing a gun', 'gunfire'],
    Shoplifting: ['shoplifting', 'a person stealing goods from a shop', 'someone hiding merchandise'],
    Stealing: ['stealing', 'a person stealing a bag', 'theft of a bicycle'],
    Vandalism: ['vandalism', 'someone damaging property', 'a person spraying graffiti'],
  },
};

export interface PromptList {
  classes: string[];
  normalIndex: number;
  /** Every (class, phrase × template) prompt, flattened; classOf[i] is the class index of prompts[i]. */
  prompts: string[];
  classOf: number[];
}

/** Expands a prompt set into the texts to encode. */
export function expandPrompts(set: PromptSet): PromptList {
  const classes = Object.keys(set.classes);
  const prompts: string[] = [];
  const classOf: number[] = [];
  classes.forEach((name, c) => {
    for (const phrase of set.classes[name] ?? []) {
      for (const template of set.templates) {
        prompts.push(template.replaceAll('{}', phrase));
        classOf.push(c);
      }
    }
  });
  return { classes, normalIndex: classes.indexOf(set.normal), prompts, classOf };
}
