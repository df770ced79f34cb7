/** Built-in English training text for the BPE merges: short film synopses and notes. */
export const FILM_CORPUS = `
The film opens on a quiet harbour town at dawn, where a retired lighthouse keeper finds a letter that was never delivered. Over one long summer he follows the trail of the letter across the coast, meeting the people whose lives it might have changed. The story is gentle and funny, and the final scene, set during a storm, is one of the most moving endings of the decade.

In this science fiction thriller, a crew of five astronauts wakes from a long sleep to discover that their ship has drifted far from its course. The captain must decide whether to trust the ship's computer, which insists that nothing is wrong. Tension builds as the crew begins to suspect one another. The director keeps the camera close to the actors, so the cramped corridors feel even smaller.

A documentary about the making of a classic musical, the movie interviews the dancers, the composer and the costume designers who worked on the original production in 1954. Archive footage shows rehearsals in a cold studio, and the editors cut between old and new performances to show how the songs have travelled through time.

Two brothers inherit a failing cinema in a small mountain village. To save it, they decide to screen every film their late father loved, one each night, for a hundred nights. The audience grows slowly, and each film changes the village a little. Critics praised the warm performances and the beautiful photography of the snowy valley.

The animated feature follows a young fox who wants to become the fastest runner in the forest. Along the way she learns that friendship matters more than winning. Children will love the bright colours and the songs, while adults will enjoy the clever jokes hidden in the background of almost every scene.

Set in Paris in the 1920s, this romantic drama tells the story of a painter and a jazz singer who meet by chance in a cafe. Their love affair is passionate but short, and the film asks what we remember of the people who changed us. The soundtrack, with its trumpets and soft piano, was nominated for several awards.

In the thriller's second act, the detective returns to the scene of the crime and notices a detail everyone else missed: the clock on the wall had stopped at seven minutes past nine. From there the plot moves quickly, with twists that most viewers won't see coming. The running time is 118 minutes, and the pacing never drags.

This historical epic recreates a famous battle with thousands of extras, real horses and very few computer effects. The screenplay spends as much time on the soldiers' letters home as on the fighting, which gives the film its heart. It was filmed over two winters in the north, and the cast said the cold was real.

A comedy about a wedding that goes wrong in every possible way: the cake falls, the band is late, the groom's uncle gives a very long speech, and the rain arrives just as the guests walk outside. Yet by the end the couple laugh, and so do we. The film is light, quick and full of small, kind moments.

Reviewers called the horror film "quietly terrifying". There are no monsters on screen for the first hour; instead, the sound design does the work, with footsteps, whispers and doors that close by themselves. When the truth is finally revealed, it is both strange and sad.
`;
