import { describe, expect, it } from 'vitest';
import type { StatusData } from '../api/operations';
import { BASE_MODEL } from './turns';
import { activeAdapter, activeChoiceLabel, answeringModel, baseChoiceLabel, introName } from './picker';

const status = (active: string | null): StatusData =>
  ({
    access: { role: 'admin', keysRequired: false },
    modelInfo: { modelId: 'SmolLM2-135M', activeAdapter: active },
    adapters: { available: ['pirate', 'poet'], active, adapters: [] },
  }) as unknown as StatusData;

describe('introName', () => {
  it('names the adapter picked for the conversation, not the base model', () => {
    expect(introName('pirate', status(null))).toBe('adapter pirate');
    expect(introName('poet', status('pirate'))).toBe('adapter poet');
  });

  it('names the base model when it is picked, and the active model otherwise', () => {
    expect(introName(BASE_MODEL, status('pirate'))).toBe('the base model (SmolLM2-135M)');
    expect(introName(null, status('pirate'))).toBe('pirate');
    expect(introName(null, status(null))).toBe('SmolLM2-135M');
    expect(introName(null, undefined)).toBe('connecting…');
  });
});

describe('activeAdapter', () => {
  it('is null while the base model serves', () => {
    expect(activeAdapter(status(null))).toBeNull();
    expect(activeAdapter(undefined)).toBeNull();
    expect(activeAdapter(status('pirate'))).toBe('pirate');
  });
});

describe('the choices', () => {
  it('keeps the server’s active model and the base model apart, adapter loaded or not', () => {
    expect(activeChoiceLabel(status(null))).toBe("Server's active model (SmolLM2-135M)");
    expect(baseChoiceLabel(status(null))).toBe('Base model (SmolLM2-135M)');
    expect(activeChoiceLabel(status('pirate'))).toBe("Server's active model (pirate)");
    expect(baseChoiceLabel(status('pirate'))).toBe('Base model (SmolLM2-135M)');
  });
});

describe('answeringModel', () => {
  it('names what answers the conversation, not what the server has active', () => {
    expect(answeringModel(BASE_MODEL, status('pirate'))).toEqual({ name: 'SmolLM2-135M', isAdapter: false });
    expect(answeringModel('poet', status(null))).toEqual({ name: 'poet', isAdapter: true });
    expect(answeringModel(null, status('pirate'))).toEqual({ name: 'pirate', isAdapter: true });
    expect(answeringModel(null, status(null))).toEqual({ name: 'SmolLM2-135M', isAdapter: false });
    expect(answeringModel('gone', status(null))).toEqual({ name: 'gone (deleted)', isAdapter: true });
  });
});
