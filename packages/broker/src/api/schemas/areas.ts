import { type Static, Type } from '@sinclair/typebox';

export const AreaView = Type.Object({
  area: Type.String({ examples: ['china-mainland'] }),
  regions: Type.Array(Type.String()),
  enabled: Type.Boolean({ description: 'Whether gateways and CCNs may be created in this area' }),
});
export type AreaView = Static<typeof AreaView>;
