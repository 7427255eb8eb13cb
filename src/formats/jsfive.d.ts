/** jsfive ships no types; hdf5-jsfive.ts uses File (and, through it, its internal DataObjects). */
declare module 'jsfive' {
  export class File {
    constructor(fh: ArrayBuffer, filename?: string);
  }
}
